package io.messagestore.cli.command;

import io.messagestore.cli.GlobalOptions;
import io.messagestore.cli.Output;
import io.messagestore.client.MessageStoreClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * A subcommand that makes calls: it gets a connection made from the global options, an
 * {@link Output} in the chosen format, and returns exit code 0 unless a call throws.
 */
abstract class ClientCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  /** Messages or threads per page for a command that pages; 100 unless it knows better. */
  int pageSize() {
    return 100;
  }

  abstract void run(MessageStoreClient client, Output out) throws Exception;

  @Override
  public Integer call() throws Exception {
    GlobalOptions options = (GlobalOptions) spec.root().userObject();
    Output out = new Output(spec.commandLine().getOut(), options.output());
    try (var connection = options.connect(pageSize())) {
      run(connection.client(), out);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    return 0;
  }

  /** A usage error of this command (exit code 2). */
  ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
