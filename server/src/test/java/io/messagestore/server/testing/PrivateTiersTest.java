package io.messagestore.server.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class PrivateTiersTest {

  /** The pid of a process that has exited (and been reaped). */
  private static long exitedPid() throws Exception {
    Process p = new ProcessBuilder("true").start();
    p.waitFor();
    return p.pid();
  }

  @Test
  void aChildThatExitedBeforeItsSignalIsNoFailure() throws Exception {
    long gone = exitedPid();

    assertThatCode(() -> PrivateTiers.signal("-CONT", ProcessHandle.current().pid(), List.of(gone)))
        .doesNotThrowAnyException();
  }

  @Test
  void aServerThatIsGoneIsAFailureCarryingWhatKillSaid() throws Exception {
    long gone = exitedPid();

    assertThatThrownBy(() -> PrivateTiers.signal("-CONT", gone, List.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(Long.toString(gone)).hasMessageContaining("No such process");
  }
}
