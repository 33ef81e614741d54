package io.messagestore.server.testing;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A test class's own {@link PrivateTiers}: started before its first test, with both tiers
 * running again before every test (whatever the previous one stopped), and removed after the
 * last one.
 *
 * <pre>
 * &#64;RegisterExtension
 * static final PrivateTiersExtension tiers = new PrivateTiersExtension();
 * </pre>
 */
public final class PrivateTiersExtension implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  private PrivateTiers tiers;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    tiers = PrivateTiers.start();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    tiers.startRedis();
    tiers.startPostgres();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    tiers.close();
  }

  public PrivateTiers get() {
    return tiers;
  }
}
