package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class MessageStoreClientOptionsTest {

  @Test
  void defaultsAreTheDocumentedConstants() {
    MessageStoreClientOptions options = MessageStoreClientOptions.defaults();

    assertThat(options.deadline()).isEqualTo(Duration.ofSeconds(5)).isEqualTo(MessageStoreClientOptions.DEFAULT_DEADLINE);
    assertThat(options.pageSize()).isEqualTo(100).isEqualTo(MessageStoreClientOptions.DEFAULT_PAGE_SIZE);
    assertThat(options.autoIdempotencyKeys()).isTrue();
    assertThat(MessageStoreClientOptions.builder().build()).isEqualTo(options);
  }

  @Test
  void zeroDeadlineFailsAtTheSetterNamingTheValue() {
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().deadline(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadline must be positive, got PT0S");
  }

  @Test
  void negativeDeadlineFailsNamingTheValue() {
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().deadline(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadline must be positive, got PT-0.005S");
  }

  @Test
  void nullDeadlineFails() {
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().deadline(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadline must not be null");
  }

  @Test
  void pageSizeOutsideWhatTheServerAcceptsFailsNamingTheValue() {
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().pageSize(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pageSize must be between 1 and 1000, got 0");
    assertThatThrownBy(() -> MessageStoreClientOptions.builder().pageSize(1001))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("pageSize must be between 1 and 1000, got 1001");
  }

  @Test
  void toBuilderChangesOnlyWhatIsSetAndLeavesTheOriginalAlone() {
    MessageStoreClientOptions original = MessageStoreClientOptions.builder()
        .deadline(Duration.ofSeconds(1)).pageSize(10).autoIdempotencyKeys(false).build();

    MessageStoreClientOptions changed = original.toBuilder().pageSize(20).build();

    assertThat(changed.deadline()).isEqualTo(Duration.ofSeconds(1));
    assertThat(changed.pageSize()).isEqualTo(20);
    assertThat(changed.autoIdempotencyKeys()).isFalse();
    assertThat(original.pageSize()).isEqualTo(10);
  }
}
