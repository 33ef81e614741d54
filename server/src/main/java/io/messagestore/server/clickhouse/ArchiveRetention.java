package io.messagestore.server.clickhouse;

import java.io.IOException;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Drops archive data past its retention by whole monthly partitions ({@code ALTER TABLE ... DROP
 * PARTITION}), never row by row: a partition goes only when everything in it is older than the
 * cutoff, i.e. when the month after it began at or before the cutoff.
 */
public final class ArchiveRetention {
  /** The tables partitioned by month of their messages' or states' time. */
  static final List<String> TABLES = List.of("messages_archive", "run_states_archive");

  private final ClickHouseTier tier;

  public ArchiveRetention(ClickHouseTier tier) {
    this.tier = tier;
  }

  /** Drops every partition wholly older than {@code cutoff}; returns them as {@code table/YYYYMM}. */
  public List<String> dropOlderThan(Instant cutoff) throws IOException, InterruptedException {
    List<String> dropped = new ArrayList<>();
    for (String table : TABLES) {
      String partitions = tier.execute("SELECT DISTINCT partition FROM system.parts WHERE database = "
          + ClickHouseMessageStore.quote(tier.database()) + " AND table = " + ClickHouseMessageStore.quote(table)
          + " AND active FORMAT TabSeparated");
      for (String partition : partitions.split("\n")) {
        String month = partition.strip();
        if (month.matches("\\d{6}") && whollyBefore(month, cutoff)) {
          tier.execute("ALTER TABLE " + tier.database() + "." + table + " DROP PARTITION " + month);
          dropped.add(table + "/" + month);
        }
      }
    }
    return dropped;
  }

  static boolean whollyBefore(String yyyymm, Instant cutoff) {
    YearMonth month = YearMonth.of(Integer.parseInt(yyyymm.substring(0, 4)), Integer.parseInt(yyyymm.substring(4)));
    return !month.plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).isAfter(cutoff);
  }
}
