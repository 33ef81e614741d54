package io.messagestore.server.metrics;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.time.Clock;
import java.util.concurrent.atomic.LongAdder;

/**
 * How busy the request path is: the calls started per second, as background work (the archiver)
 * asks when deciding whether to yield. Counting is one {@link LongAdder} increment per call.
 */
public final class RequestActivity implements ServerInterceptor {
  private final LongAdder calls = new LongAdder();
  private final Clock clock;
  private long lastCalls;
  private long lastMillis;
  private double rate;

  public RequestActivity(Clock clock) {
    this.clock = clock;
    this.lastMillis = clock.millis();
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    calls.increment();
    return next.startCall(call, headers);
  }

  /** Calls started per second since the previous look (at least 100 ms ago; else the last rate). */
  public synchronized double callsPerSecond() {
    long now = clock.millis();
    if (now - lastMillis >= 100) {
      long total = calls.sum();
      rate = (total - lastCalls) * 1000.0 / (now - lastMillis);
      lastCalls = total;
      lastMillis = now;
    }
    return rate;
  }
}
