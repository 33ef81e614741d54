package io.messagestore.server.health;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RedisMemoryTest {
  private static final String INFO = "# Memory\r\nused_memory:900000\r\nused_memory_human:878.91K\r\n"
      + "maxmemory:1000000\r\nmaxmemory_human:976.56K\r\nmaxmemory_policy:volatile-lru\r\n";

  @Test
  void readsUsedMaxAndPolicyFromInfoMemory() {
    assertThat(RedisMemory.parse(INFO)).isEqualTo(new RedisMemory(900_000, 1_000_000, "volatile-lru"));
    assertThat(RedisMemory.parse(INFO).detail())
        .isEqualTo("used_memory=0.9MB maxmemory=1.0MB maxmemory-policy=volatile-lru");
  }

  @Test
  void aRedisWithoutLimitOrWithASafePolicyAndRoomHasNothingToWarnOf() {
    assertThat(new RedisMemory(5_000_000, 0, "noeviction").warnings()).isEmpty();
    assertThat(new RedisMemory(899_999, 1_000_000, "volatile-ttl").warnings()).isEmpty();
    assertThat(new RedisMemory(5_000_000, 0, "noeviction").detail()).contains("maxmemory=none");
  }

  @Test
  void warnsAtNinetyPercentOfMaxmemoryAndOfEveryAllkeysPolicy() {
    assertThat(new RedisMemory(900_000, 1_000_000, "noeviction").warnings()).singleElement().asString()
        .startsWith("used_memory at 90% of maxmemory (0.9MB of 1.0MB)");
    assertThat(new RedisMemory(1, 0, "allkeys-random").warnings()).singleElement().asString()
        .startsWith("maxmemory-policy=allkeys-random: when full, Redis may evict a persistence stream");
  }
}
