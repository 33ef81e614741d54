package io.messagestore.server.testing;

import java.io.IOException;
import java.net.ServerSocket;

/** Finds TCP ports nothing listens on, for private tier instances and gateways. */
public final class FreePorts {
  private FreePorts() {}

  public static int next() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
