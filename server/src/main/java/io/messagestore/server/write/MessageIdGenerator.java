package io.messagestore.server.write;

import java.security.SecureRandom;
import java.time.Clock;
import java.util.UUID;

/**
 * Mints UUIDv7 message ids (RFC 9562): 48 bits of Unix milliseconds, then 74 bits that are
 * random at the start of each millisecond and counted up within it. Ids from one generator
 * strictly increase even when the clock stands still or steps back (the last millisecond is
 * kept and the counter goes on), so a thread's order is the order its messages were accepted.
 */
public final class MessageIdGenerator {
  private static final long RAND_A_MASK = 0xFFFL;
  private static final long RAND_B_MASK = 0x3FFF_FFFF_FFFF_FFFFL;

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  private long lastMillis = -1;
  private long randA;
  private long randB;

  public MessageIdGenerator(Clock clock) {
    this.clock = clock;
  }

  public synchronized UUID next() {
    long now = clock.millis();
    if (now > lastMillis) {
      lastMillis = now;
      // Top bit of rand_a starts clear so a millisecond has room for ~2^73 increments.
      randA = random.nextInt(0x800);
      randB = random.nextLong() & RAND_B_MASK;
    } else {
      randB = (randB + 1) & RAND_B_MASK;
      if (randB == 0) {
        randA++;
        if (randA > RAND_A_MASK) {
          // Counter exhausted within one millisecond: borrow the next one.
          lastMillis++;
          randA = 0;
        }
      }
    }
    long msb = (lastMillis << 16) | 0x7000L | randA;
    long lsb = 0x8000_0000_0000_0000L | randB;
    return new UUID(msb, lsb);
  }

  /**
   * An id above {@code floor}, which another instance minted (its clock may be ahead of this
   * one's): this generator goes on from there, so its later ids are above it too.
   */
  public synchronized UUID nextAfter(UUID floor) {
    long floorMillis = millisOf(floor);
    if (floorMillis >= lastMillis) {
      lastMillis = floorMillis;
      randA = floor.getMostSignificantBits() & RAND_A_MASK;
      randB = floor.getLeastSignificantBits() & RAND_B_MASK;
    }
    // Within the floor's millisecond the counter goes on from the floor's own, so this is above it.
    return next();
  }

  /** The smallest UUIDv7 of the millisecond {@code millis}: every id minted before it is smaller. */
  public static String firstIdAt(long millis) {
    return new UUID((millis << 16) | 0x7000L, 0x8000_0000_0000_0000L).toString();
  }

  /** The creation time encoded in a UUIDv7, in Unix milliseconds. */
  public static long millisOf(UUID id) {
    return id.getMostSignificantBits() >>> 16;
  }
}
