package io.messagestore.client;

import io.grpc.Status;
import java.time.Duration;

/**
 * Receives what a client does, for metrics: every finished logical call, every retry and every
 * resumed watch. Set it with {@link MessageStoreClientOptions.Builder#metrics}; the SDK ships
 * {@link io.messagestore.client.micrometer.MicrometerMetrics} for Micrometer, and Micrometer is
 * needed on the class path only when that class is used.
 *
 * <p>Methods are called on gRPC or SDK threads, possibly concurrently, and must return quickly
 * and not throw (what they throw is ignored). Every method does nothing by default.
 */
public interface MessageStoreMetrics {

  /** Records nothing; the default. */
  MessageStoreMetrics NONE = new MessageStoreMetrics() { };

  /**
   * A logical call ended, after all its attempts.
   *
   * @param rpc the RPC name, e.g. {@code "SendMessage"}
   * @param code {@code OK} or the code it failed with
   * @param duration from the start of the first attempt to the end of the last
   * @param attempts how many attempts were made, at least 1
   */
  default void callEnded(String rpc, Status.Code code, Duration duration, int attempts) {}

  /**
   * An attempt failed and another one will be made after {@code backoff}.
   *
   * @param rpc the RPC name
   * @param code the code the attempt failed with
   * @param backoff the pause before the next attempt
   */
  default void retrying(String rpc, Status.Code code, Duration backoff) {}

  /**
   * A watch's stream broke and will be reopened after the last delivered message.
   *
   * @param code the code the stream broke with
   */
  default void watchResuming(Status.Code code) {}
}
