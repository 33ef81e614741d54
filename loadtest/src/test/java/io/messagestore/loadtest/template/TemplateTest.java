package io.messagestore.loadtest.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class TemplateTest {

    @Test
    void requestNumberAndWorkerIdAreSubstituted() {
        Template template = Template.compile("{\"id\":\"{{.RequestNumber}}\",\"w\":\"{{ .WorkerID }}\"}");

        assertThat(template.expand(42, "c0w3")).isEqualTo("{\"id\":\"42\",\"w\":\"c0w3\"}");
        assertThat(template.expand(43, "c1w0")).isEqualTo("{\"id\":\"43\",\"w\":\"c1w0\"}");
    }

    @Test
    void newUuidGivesADifferentValidVersion4UuidEachTime() {
        Template template = Template.compile("{{newUUID}}");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String value = template.expand(i, "w");
            assertThat(UUID.fromString(value).version()).isEqualTo(4);
            seen.add(value);
        }
        assertThat(seen).hasSize(1000);
    }

    @Test
    void randomStringHasTheAskedLengthOfAlphanumerics() {
        Template template = Template.compile("x{{randomString 12}}y");

        for (int i = 0; i < 100; i++) {
            assertThat(template.expand(i, "w")).matches("x[A-Za-z0-9]{12}y");
        }
    }

    @Test
    void randomStringUsesEveryAlphanumericAboutEquallyOften() {
        Template template = Template.compile("{{randomString 620}}");
        java.util.Map<Character, Integer> counts = new java.util.HashMap<>();
        for (int i = 0; i < 100; i++) {
            for (char c : template.expand(i, "w").toCharArray()) {
                counts.merge(c, 1, Integer::sum);
            }
        }
        // 62,000 characters, 1,000 expected of each; 200 away is more than six standard deviations.
        assertThat(counts).hasSize(62);
        assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(800, 1200));
    }

    @Test
    void randomIntStaysInMinInclusiveMaxExclusiveLikeGhz() {
        Template template = Template.compile("{{randomInt 5 8}}");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            seen.add(template.expand(i, "w"));
        }
        assertThat(seen).containsExactlyInAnyOrder("5", "6", "7");
    }

    @Test
    void textWithoutActionsIsConstantAndUnchanged() {
        Template template = Template.compile("{\"a\": {\"b\": 1}}");

        assertThat(template.isConstant()).isTrue();
        assertThat(template.expand(7, "w")).isEqualTo("{\"a\": {\"b\": 1}}");
        assertThat(Template.hasActions("{\"a\": {\"b\": 1}}")).isFalse();
        assertThat(Template.hasActions("{{newUUID}}")).isTrue();
    }

    @Test
    void unknownActionsAreRejectedWhenCompiledNotWhenExpanded() {
        assertThatThrownBy(() -> Template.compile("{{.Nope}}"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown template action '{{.Nope}}'");
        assertThatThrownBy(() -> Template.compile("{{randomInt 9 1}}"))
                .hasMessageContaining("MAX must be greater than MIN");
    }
}
