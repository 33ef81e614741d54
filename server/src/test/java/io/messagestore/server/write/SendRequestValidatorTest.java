package io.messagestore.server.write;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.messagestore.server.error.StoreError;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SendRequestValidatorTest {

  @Test
  void threadIdsAcceptExactlyTheDocumentedCharacters() {
    Pattern documented = Pattern.compile("[A-Za-z0-9._:-]");
    for (char c = 1; c < 0x3000; c++) {
      String id = "t" + c + "t";
      boolean allowed = documented.matcher(String.valueOf(c)).matches();
      if (allowed) {
        SendRequestValidator.checkThreadId(id, "thread_id");
      } else {
        assertThatThrownBy(() -> SendRequestValidator.checkThreadId(id, "thread_id"))
            .as("character U+%04X", (int) c)
            .isInstanceOf(StoreError.Invalid.class)
            .hasMessageContaining("thread_id must be 1-128 characters of [A-Za-z0-9._:-]");
      }
    }
  }

  @Test
  void threadIdLengthIsOneTo128() {
    SendRequestValidator.checkThreadId("x".repeat(128), "thread_id");
    assertThatThrownBy(() -> SendRequestValidator.checkThreadId("x".repeat(129), "thread_id"))
        .hasMessageContaining("1-128 characters");
    assertThatThrownBy(() -> SendRequestValidator.checkThreadId("", "thread_id"))
        .hasMessageContaining("thread_id is required");
  }
}
