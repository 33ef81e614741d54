package io.messagestore.server.consistency;

import java.util.List;
import java.util.Map;

/**
 * What one consistency check found.
 *
 * @param checked messages checked
 * @param withFindings checked messages with at least one finding
 * @param findings the findings, up to the check's limit (thread findings included)
 * @param counts every finding by kind, past the limit too
 */
public record CheckResult(long checked, long withFindings, List<Finding> findings, Map<FindingKind, Long> counts) {
  /** The fraction of checked messages with no finding; 1 when none were checked. */
  public double score() {
    return checked == 0 ? 1.0 : (double) (checked - withFindings) / checked;
  }
}
