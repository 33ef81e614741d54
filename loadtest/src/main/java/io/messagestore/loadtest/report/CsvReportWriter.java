package io.messagestore.loadtest.report;

import java.io.PrintWriter;
import java.util.Locale;

/** ghz's csv format: one line per call, "duration (ms),status,error". */
public final class CsvReportWriter {

    private CsvReportWriter() {
    }

    public static void write(Report report, PrintWriter out) {
        out.print("duration (ms),status,error");
        if (report.details() != null) {
            report.details().forEach((epochMillis, latency, code, error) -> {
                out.print('\n');
                out.printf(Locale.ROOT, "%.2f,%s,%s", latency / 1e6, StatusNames.ofValue(code), escape(error));
            });
        }
        out.println();
        out.flush();
    }

    private static String escape(String field) {
        if (field.indexOf(',') < 0 && field.indexOf('"') < 0 && field.indexOf('\n') < 0) {
            return field;
        }
        return '"' + field.replace("\"", "\"\"") + '"';
    }
}
