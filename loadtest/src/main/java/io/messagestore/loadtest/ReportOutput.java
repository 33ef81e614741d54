package io.messagestore.loadtest;

import io.messagestore.loadtest.report.Comparison;
import io.messagestore.loadtest.report.CsvReportWriter;
import io.messagestore.loadtest.report.HtmlReportWriter;
import io.messagestore.loadtest.report.JsonReportWriter;
import io.messagestore.loadtest.report.Report;
import io.messagestore.loadtest.report.SummaryWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where a run's report goes (-o FILE, else stdout) and in which format (-O). */
final class ReportOutput {

    private final String format;
    private final Path output;
    private final PrintStream stdout;

    /**
     * @param format one of summary, json, pretty, csv, html (checked by {@link OptionChecks})
     * @param output the report file, or null for {@code stdout}
     */
    ReportOutput(String format, Path output, PrintStream stdout) {
        this.format = format;
        this.output = output;
        this.stdout = stdout;
    }

    void write(Report report) {
        try (Writer out = open()) {
            switch (format) {
                case "json" -> JsonReportWriter.write(report, out, false);
                case "pretty" -> JsonReportWriter.write(report, out, true);
                case "csv" -> CsvReportWriter.write(report, new PrintWriter(out));
                case "html" -> HtmlReportWriter.write(report, out);
                default -> SummaryWriter.write(report, new PrintWriter(out));
            }
        } catch (IOException e) {
            throw failed(e);
        }
    }

    void write(Comparison comparison) {
        try (Writer out = open()) {
            switch (format) {
                case "json" -> JsonReportWriter.write(comparison, out, false);
                case "pretty" -> JsonReportWriter.write(comparison, out, true);
                // one table per file: the target's calls, which is what a comparison is run for
                case "csv" -> CsvReportWriter.write(comparison.target(), new PrintWriter(out));
                case "html" -> HtmlReportWriter.write(comparison, out);
                default -> SummaryWriter.write(comparison, new PrintWriter(out));
            }
        } catch (IOException e) {
            throw failed(e);
        }
    }

    private LoadTestException failed(IOException e) {
        return LoadTestException.io("cannot write the report to " + (output != null ? output : "stdout"), e);
    }

    private Writer open() throws IOException {
        if (output != null) {
            if (output.getParent() != null) {
                Files.createDirectories(output.getParent());
            }
            return Files.newBufferedWriter(output, StandardCharsets.UTF_8);
        }
        // do not close stdout with the writer
        return new OutputStreamWriter(stdout, StandardCharsets.UTF_8) {
            @Override
            public void close() throws IOException {
                flush();
            }
        };
    }
}
