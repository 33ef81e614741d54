package io.messagestore.server.config;

import java.time.Duration;
import java.util.Locale;

/**
 * The archive tier: how long messages stay in PostgreSQL before the archiver moves them to
 * ClickHouse, how often and how much it moves at a time, and how long ClickHouse keeps them.
 * A retention of zero ({@code 0} or {@code off}) turns that part off.
 */
public record ArchiveSettings(Duration hotRetention, Duration interval, int batchSize, Duration archiveRetention) {

  public static final Setting<Duration> HOT_RETENTION =
      Setting.of("MESSAGESTORE_HOT_RETENTION", Duration.ofDays(30), ArchiveSettings::durationOrOff)
          .rule(d -> !d.isNegative(), "must not be negative (0 or off: no archiving)");
  public static final Setting<Duration> ARCHIVE_INTERVAL =
      Setting.positiveDuration("MESSAGESTORE_ARCHIVE_INTERVAL", Duration.ofSeconds(10));
  public static final Setting<Integer> ARCHIVE_BATCH = Setting.integer("MESSAGESTORE_ARCHIVE_BATCH", 10_000)
      .rule(n -> n >= 1 && n <= 20_000, "must be 1-20000");
  public static final Setting<Duration> ARCHIVE_RETENTION =
      Setting.of("MESSAGESTORE_ARCHIVE_RETENTION", Duration.ZERO, ArchiveSettings::durationOrOff)
          .rule(d -> !d.isNegative(), "must not be negative (0 or off: kept for ever)");

  public ArchiveSettings {
    HOT_RETENTION.check(hotRetention);
    ARCHIVE_INTERVAL.check(interval);
    ARCHIVE_BATCH.check(batchSize);
    ARCHIVE_RETENTION.check(archiveRetention);
  }

  static ArchiveSettings from(SettingValues v) {
    return new ArchiveSettings(v.get(HOT_RETENTION), v.get(ARCHIVE_INTERVAL), v.get(ARCHIVE_BATCH),
        v.get(ARCHIVE_RETENTION));
  }

  /** Whether the archiver runs at all. */
  public boolean archiving() {
    return !hotRetention.isZero();
  }

  /** Whether ClickHouse drops archive partitions past a retention. */
  public boolean archiveExpires() {
    return !archiveRetention.isZero();
  }

  /** A duration, or {@code 0} / {@code off} for none (zero). */
  static Duration durationOrOff(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    return t.equals("off") || t.equals("0") ? Duration.ZERO : Setting.parseDuration(text);
  }
}
