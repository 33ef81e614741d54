package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class GoDurationTest {

    @Test
    void parsesGoDurationsAsGhzFlagsTakeThem() {
        assertThat(GoDuration.parse("20s")).isEqualTo(Duration.ofSeconds(20));
        assertThat(GoDuration.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(GoDuration.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(GoDuration.parse("250us")).isEqualTo(Duration.ofNanos(250_000));
        assertThat(GoDuration.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
        assertThat(GoDuration.parse("0")).isEqualTo(Duration.ZERO);
    }

    @Test
    void rejectsTextThatIsNotADuration() {
        assertThatThrownBy(() -> GoDuration.parse("10")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> GoDuration.parse("10 s")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> GoDuration.parse("s")).hasMessageContaining("not a duration");
        assertThatThrownBy(() -> GoDuration.parse("-5s")).hasMessageContaining("negative");
    }
}
