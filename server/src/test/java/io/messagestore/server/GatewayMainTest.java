package io.messagestore.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GatewayMainTest {
  private ResourceLeakDetector.Level before;
  private String propertyBefore;

  @BeforeEach
  void remember() {
    before = ResourceLeakDetector.getLevel();
    propertyBefore = System.getProperty(GatewayMain.LEAK_DETECTION_PROPERTY);
  }

  @AfterEach
  void restore() {
    ResourceLeakDetector.setLevel(before);
    if (propertyBefore == null) {
      System.clearProperty(GatewayMain.LEAK_DETECTION_PROPERTY);
    } else {
      System.setProperty(GatewayMain.LEAK_DETECTION_PROPERTY, propertyBefore);
    }
  }

  @Test
  void deployedGatewayRunsWithoutNettyLeakTracking() {
    System.clearProperty(GatewayMain.LEAK_DETECTION_PROPERTY);
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);

    GatewayMain.turnOffLeakDetectionUnlessAsked();

    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
  }

  @Test
  void leakTrackingAskedForOnTheCommandLineStaysOn() {
    System.setProperty(GatewayMain.LEAK_DETECTION_PROPERTY, "paranoid");
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);

    GatewayMain.turnOffLeakDetectionUnlessAsked();

    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
  }
}
