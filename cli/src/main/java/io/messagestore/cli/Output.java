package io.messagestore.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.Tier;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a command prints: protobuf JSON, one object per line, for {@code -o json}; plain lines
 * and aligned columns for people otherwise. Every line is flushed as it is written, so a
 * {@code watch} or a long {@code list} piped into another program shows up at once.
 */
public final class Output {
  // Field names as the .proto spells them (thread_id), as the docs and grpcurl examples do;
  // fields at their default value are printed too, so scripts need not guess what is absent.
  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .preservingProtoFieldNames()
      .alwaysPrintFieldsWithNoPresence()
      .omittingInsignificantWhitespace();

  private final PrintWriter out;
  private final GlobalOptions.OutputFormat format;

  public Output(PrintWriter out, GlobalOptions.OutputFormat format) {
    this.out = out;
    this.format = format;
  }

  /** Whether {@code -o json} was asked for. */
  public boolean json() {
    return format == GlobalOptions.OutputFormat.json;
  }

  /** One protobuf object as one line of JSON. */
  public void json(MessageOrBuilder message) {
    try {
      out.println(JSON.print(message));
    } catch (InvalidProtocolBufferException e) {
      // Only Any fields with unknown types fail to print, and the API has none.
      throw new IllegalStateException("cannot print " + message.getClass().getSimpleName(), e);
    }
    out.flush();
  }

  public void line(String text) {
    out.println(text);
    out.flush();
  }

  /**
   * Starts a table whose columns have these widths; the last column is not padded. Prints the
   * header at once, so rows can follow as they arrive.
   */
  public Columns columns(int[] widths, String... headers) {
    Columns columns = new Columns(widths);
    line(columns.format(List.of(headers)));
    return columns;
  }

  /** Prints a whole table, each column as wide as its widest cell. */
  public void table(List<String> headers, List<List<String>> rows) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    Columns columns = columns(widths, headers.toArray(String[]::new));
    rows.forEach(row -> columns.row(row.toArray(String[]::new)));
  }

  /** Rows of a table started by {@link #columns}. */
  public final class Columns {
    private final int[] widths;

    private Columns(int[] widths) {
      this.widths = widths.clone();
    }

    public void row(String... cells) {
      line(format(List.of(cells)));
    }

    private String format(List<String> cells) {
      StringBuilder row = new StringBuilder();
      for (int i = 0; i < cells.size(); i++) {
        String cell = cells.get(i);
        if (i == cells.size() - 1) {
          row.append(cell);
        } else {
          row.append(cell).append(" ".repeat(Math.max(0, widths[i] - cell.length()))).append("  ");
        }
      }
      return row.toString().stripTrailing();
    }
  }

  // --- how values read in text output ---

  /** {@code ROLE_ASSISTANT} as {@code assistant}. */
  public static String role(Role role) {
    return role.name().replaceFirst("^ROLE_", "").toLowerCase(Locale.ROOT);
  }

  /** {@code TIER_POSTGRES} as {@code postgres}. */
  public static String tier(Tier tier) {
    return tier.name().replaceFirst("^TIER_", "").toLowerCase(Locale.ROOT);
  }

  /** An ISO-8601 instant, or {@code -} for an unset timestamp. */
  public static String time(Timestamp timestamp) {
    if (timestamp.getSeconds() == 0 && timestamp.getNanos() == 0) {
      return "-";
    }
    return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos()).toString();
  }

  /** Text on one line: line breaks and tabs written as {@code \n}, {@code \t}, so rows stay rows. */
  public static String oneLine(String text) {
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace("\t", "\\t");
  }

  /** {@code k=v, k2=v2} in key order. */
  public static String metadata(java.util.Map<String, String> metadata) {
    List<String> pairs = new ArrayList<>();
    metadata.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
        .forEach(e -> pairs.add(e.getKey() + "=" + oneLine(e.getValue())));
    return String.join(", ", pairs);
  }
}
