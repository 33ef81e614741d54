package io.messagestore.cli.command;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Standard input as the commands read it: UTF-8, all of it or line by line. */
final class Stdin {
  private Stdin() {}

  /**
   * All of standard input, minus one trailing line break: {@code echo hello | messagestore send t}
   * sends {@code hello}, as {@code $(...)} in a shell would give it.
   */
  static String readAll(InputStream in) {
    try {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (text.endsWith("\r\n")) {
        return text.substring(0, text.length() - 2);
      }
      return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read standard input", e);
    }
  }

  static BufferedReader lines(InputStream in) {
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
  }

  /** Tells a person at a terminal why nothing happens yet. */
  static void hintIfTerminal(java.io.PrintWriter err, String what) {
    if (System.console() != null) {
      err.println("reading " + what + " from standard input (end with Ctrl-D)");
      err.flush();
    }
  }
}
