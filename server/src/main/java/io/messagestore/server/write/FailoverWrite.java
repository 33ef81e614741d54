package io.messagestore.server.write;

import io.lettuce.core.RedisCommandTimeoutException;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.Tier;
import io.messagestore.server.auth.Caller;
import io.messagestore.server.auth.ThreadAccess;
import io.messagestore.server.consistency.FailoverRepair;
import io.messagestore.server.error.StoreError;
import io.messagestore.server.error.StoreError.TierUnavailable.Stored;
import io.messagestore.server.postgres.PostgresMessageStore;
import io.messagestore.server.resilience.GuardedCall;
import io.messagestore.server.resilience.TierBreakers;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The write path's way around Redis: messages Redis could not take go synchronously into
 * PostgreSQL in one statement (all or nothing), their threads marked for the Redis repair in
 * the same statement ({@link FailoverRepair}).
 */
final class FailoverWrite {
  private final PostgresMessageStore postgres;
  private final TierBreakers breakers;
  private final FailoverRepair repairs;
  private final ThreadAccess access;
  private final Counter failovers;

  FailoverWrite(PostgresMessageStore postgres, TierBreakers breakers, FailoverRepair repairs, ThreadAccess access,
      MeterRegistry meters) {
    this.postgres = postgres;
    this.breakers = breakers;
    this.repairs = repairs;
    this.access = access;
    this.failovers = Counter.builder("messagestore.write.failovers").tag("reason", WritePath.REDIS_UNAVAILABLE)
        .description("writes acknowledged by PostgreSQL because Redis could not take them").register(meters);
  }

  /** Redis could not take the write: store synchronously in PostgreSQL, all or nothing. */
  List<SendMessageResponse> store(Caller caller, String threadId, List<Message> messages,
      List<SendMessageRequest> requests, Throwable redisFailure) {
    List<String> idem = new ArrayList<>(requests.size());
    requests.forEach(r -> idem.add(r.getIdempotencyKey()));
    try {
      return breakers.postgresWrite().callBlocking(() -> {
        if (!access.mayWrite(caller, postgres.claimThread(threadId, caller.userId()).owner())) {
          throw access.denied(threadId, caller);
        }
        Set<String> inserted = postgres.insertMissingFromRedis(messages, idem);
        if (!inserted.isEmpty()) {
          repairs.wroteAroundRedis(threadId);
        }
        List<SendMessageResponse> out = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) {
          Message m = messages.get(i);
          SendMessageResponse.Builder b = SendMessageResponse.newBuilder()
              .setAcknowledgedBy(Tier.TIER_POSTGRES).setFailoverReason(WritePath.REDIS_UNAVAILABLE);
          if (inserted.contains(m.getMessageId())) {
            b.setMessage(m);
          } else {
            Optional<Message> first = idem.get(i).isEmpty() ? Optional.empty()
                : postgres.findByIdempotencyKey(threadId, idem.get(i));
            b.setMessage(first.orElse(m)).setDuplicate(first.isPresent());
          }
          out.add(b.build());
        }
        failovers.increment(messages.size());
        return out;
      });
    } catch (StoreError e) {
      throw e;
    } catch (Exception e) {
      if (breakers.postgresWrite().refusesValue(e)) {
        throw breakers.postgresWrite().explain(e, null);
      }
      // A Redis timeout leaves the outcome open: the script may have run after all, in which
      // case the message is persisted later. Only a refused Redis call means nothing was stored.
      boolean maybe = GuardedCall.unwrap(redisFailure) instanceof RedisCommandTimeoutException;
      String outcome = maybe
          ? "the Redis write timed out and may still have been applied; retry with the same idempotency_key"
          : "nothing was stored";
      throw new StoreError.TierUnavailable("no tier can take the write, " + outcome + ": redis: "
          + StoreError.describe(redisFailure) + "; postgres: " + StoreError.describe(e),
          maybe ? Stored.MAYBE : Stored.NOTHING, e);
    }
  }
}
