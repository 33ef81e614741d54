package io.messagestore.server.config;

import java.time.Duration;

/**
 * The consistency checker ({@code CheckConsistency} and its background sampler): how much one
 * check reports, how many run at once, and what counts as expected rather than a finding.
 *
 * @param sampleInterval how often the sampler checks a random sample of recent messages; zero: never
 * @param sampleSize messages per sample
 * @param sampleWindow how far back "recent" reaches for the sampler
 * @param maxFindings findings one check returns at most (it still counts past them)
 * @param maxConcurrentChecks checks that run at once on one instance; more are refused
 * @param lagBudget how long an acknowledged message may go without a durable copy before it is a
 *     finding (persistence lag plus clock skew between instances)
 * @param archiveGrace how long a message may sit in both PostgreSQL and the archive after its copy
 *     reached the archive (an archive batch copies, reads back, then deletes)
 */
public record ConsistencySettings(Duration sampleInterval, int sampleSize, Duration sampleWindow, int maxFindings,
    int maxConcurrentChecks, Duration lagBudget, Duration archiveGrace) {

  public static final Setting<Duration> SAMPLE_INTERVAL =
      Setting.of("MESSAGESTORE_CONSISTENCY_SAMPLE_INTERVAL", Duration.ofMinutes(1), ArchiveSettings::durationOrOff)
          .rule(d -> !d.isNegative(), "must be a duration, or 0 / off for no sampling");
  public static final Setting<Integer> SAMPLE_SIZE = Setting.integer("MESSAGESTORE_CONSISTENCY_SAMPLE_SIZE", 100)
      .rule(n -> n >= 1 && n <= 100_000, "must be 1-100000");
  public static final Setting<Duration> SAMPLE_WINDOW =
      Setting.positiveDuration("MESSAGESTORE_CONSISTENCY_SAMPLE_WINDOW", Duration.ofHours(1));
  public static final Setting<Integer> MAX_FINDINGS = Setting.integer("MESSAGESTORE_CONSISTENCY_MAX_FINDINGS", 1000)
      .rule(n -> n >= 1 && n <= 100_000, "must be 1-100000");
  public static final Setting<Integer> MAX_CONCURRENT_CHECKS =
      Setting.integer("MESSAGESTORE_CONSISTENCY_MAX_CONCURRENT_CHECKS", 2)
          .rule(n -> n >= 1 && n <= 64, "must be 1-64");
  public static final Setting<Duration> LAG_BUDGET =
      Setting.positiveDuration("MESSAGESTORE_CONSISTENCY_LAG_BUDGET", Duration.ofSeconds(30));
  public static final Setting<Duration> ARCHIVE_GRACE =
      Setting.positiveDuration("MESSAGESTORE_CONSISTENCY_ARCHIVE_GRACE", Duration.ofMinutes(5));

  public ConsistencySettings {
    SAMPLE_INTERVAL.check(sampleInterval);
    SAMPLE_SIZE.check(sampleSize);
    SAMPLE_WINDOW.check(sampleWindow);
    MAX_FINDINGS.check(maxFindings);
    MAX_CONCURRENT_CHECKS.check(maxConcurrentChecks);
    LAG_BUDGET.check(lagBudget);
    ARCHIVE_GRACE.check(archiveGrace);
  }

  /** The defaults, as an operator who sets nothing gets them. */
  public static ConsistencySettings defaults() {
    return new ConsistencySettings(SAMPLE_INTERVAL.defaultValue(), SAMPLE_SIZE.defaultValue(),
        SAMPLE_WINDOW.defaultValue(), MAX_FINDINGS.defaultValue(), MAX_CONCURRENT_CHECKS.defaultValue(),
        LAG_BUDGET.defaultValue(), ARCHIVE_GRACE.defaultValue());
  }

  public boolean sampling() {
    return !sampleInterval.isZero();
  }

  static ConsistencySettings from(SettingValues v) {
    return new ConsistencySettings(v.get(SAMPLE_INTERVAL), v.get(SAMPLE_SIZE), v.get(SAMPLE_WINDOW),
        v.get(MAX_FINDINGS), v.get(MAX_CONCURRENT_CHECKS), v.get(LAG_BUDGET), v.get(ARCHIVE_GRACE));
  }
}
