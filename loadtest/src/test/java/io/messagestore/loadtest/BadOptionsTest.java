package io.messagestore.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** A bad flag is a usage error: exit status 2 and one line naming the flag, never a stack trace. */
class BadOptionsTest {

    static Stream<Arguments> badOptions() {
        return Stream.of(
                Arguments.of(List.of("-z", "1x"), "--duration"),
                Arguments.of(List.of("-c", "-1"), "-c"),
                Arguments.of(List.of("-c", "0"), "-c"),
                Arguments.of(List.of("-n", "0"), "-n"),
                Arguments.of(List.of("--rps", "abc"), "--rps"),
                Arguments.of(List.of("--rps", "-5"), "--rps"),
                Arguments.of(List.of("-t", "-5s"), "--timeout"),
                Arguments.of(List.of("--connect-timeout", "10"), "--connect-timeout"),
                Arguments.of(List.of("--connections", "0"), "--connections"),
                Arguments.of(List.of("--skipFirst", "-1"), "--skipFirst"),
                Arguments.of(List.of("--bogus"), "--bogus"),
                Arguments.of(List.of("--tags", "{\"branch\":"), "--tags"),
                Arguments.of(List.of("--tags", "[\"main\"]"), "--tags"),
                Arguments.of(List.of("-O", "xml"), "-O"),
                Arguments.of(List.of("--duration-stop", "later"), "--duration-stop"),
                Arguments.of(List.of("--progress", "sometimes"), "--progress"),
                Arguments.of(List.of("--lag-source", "kafka"), "--lag-source"),
                Arguments.of(List.of("--scenario", "mixed", "--mix", "send=x"), "--mix"),
                Arguments.of(List.of("--scenario", "chaos"), "--scenario"),
                Arguments.of(List.of("--cert", "client.pem"), "--key"),
                Arguments.of(List.of("-m", "@"), "-m"));
    }

    @ParameterizedTest
    @MethodSource("badOptions")
    void aBadOptionExitsWithTwoAndOneLineNamingIt(List<String> options, String named) {
        List<String> args = new ArrayList<>(List.of("--insecure", "--call", "grpc.health.v1.Health/Check"));
        args.addAll(options);
        args.add("127.0.0.1:1");

        assertUsageError(CommandRunner.run(args.toArray(String[]::new)), named);
    }

    private static void assertUsageError(CommandRunner.Result result, String named) {
        assertThat(result.exitCode()).as(result.stderr()).isEqualTo(2);
        assertThat(result.stderr()).hasLineCount(1).startsWith("error: ").contains(named)
                .doesNotContain("Exception", "\tat ", "Usage:");
        assertThat(result.stdout()).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("missingEssentials")
    void aRunWithoutTargetOrMethodIsAUsageErrorToo(List<String> args, String named) {
        CommandRunner.Result result = CommandRunner.run(args.toArray(String[]::new));

        assertThat(result.exitCode()).isEqualTo(2);
        assertThat(result.stderr()).hasLineCount(1).startsWith("error: ").contains(named);
    }

    static Stream<Arguments> misusedWatchOptions() {
        String watch = "messagestore.v1.MessageStore/WatchThread";
        String send = "messagestore.v1.MessageStore/SendMessage";
        return Stream.of(
                Arguments.of(List.of("--call", watch, "--streams", "-1", "-z", "1s"), "--streams must be at least 0, not -1"),
                Arguments.of(List.of("--call", send, "--streams", "10", "-z", "1s"), "'" + send + "'"),
                Arguments.of(List.of("--call", watch, "--streams", "10"), "-z"),
                Arguments.of(List.of("--call", watch, "--streams", "10", "-z", "1s", "--compare", "grpc.health.v1.Health/Check"),
                        "--compare"),
                Arguments.of(List.of("--call", send, "--watch-streams", "-3"), "--watch-streams must be at least 0, not -3"),
                Arguments.of(List.of("--call", "grpc.health.v1.Health/Check", "--watch-streams", "3"),
                        "'grpc.health.v1.Health/Check'"),
                Arguments.of(List.of("--call", send, "--watch-host", "127.0.0.1:2"), "--watch-streams"),
                Arguments.of(List.of("--call", send, "--watch-streams", "3", "--watch-drain", "soon"), "--watch-drain"));
    }

    @ParameterizedTest
    @MethodSource("misusedWatchOptions")
    void aMisusedWatchOptionExitsWithTwoAndOneLineNamingIt(List<String> options, String named) {
        List<String> args = new ArrayList<>(List.of("--insecure"));
        args.addAll(options);
        args.add("127.0.0.1:1");

        assertUsageError(CommandRunner.run(args.toArray(String[]::new)), named);
    }

    static Stream<Arguments> missingEssentials() {
        return Stream.of(
                Arguments.of(List.of("--insecure", "--call", "grpc.health.v1.Health/Check"), "HOST"),
                Arguments.of(List.of("--insecure", "127.0.0.1:1"), "--call"));
    }
}
