package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.ThreadEvent.Type;
import io.messagestore.client.FakeMessageStore.WatchScript;
import io.messagestore.server.testing.Poll;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The asynchronous watch (Flow.Publisher) against scripted streams: resume, order, demand, ends. */
class WatchPublisherTest {
  private static final String THREAD = "t-1";
  private static final Duration WAIT = Duration.ofSeconds(10);

  private InProcessGateway gateway;
  private MessageStoreClient client;

  @BeforeEach
  void start() throws Exception {
    gateway = new InProcessGateway();
    client = MessageStoreClient.create(gateway.channel, () -> "jwt", MessageStoreClientOptions.builder()
        .retryPolicy(CallType.WATCH_RESUME, MessageStoreClientOptions.DEFAULT_WATCH_RESUME.toBuilder()
            .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(5)).build())
        .build());
  }

  @AfterEach
  void stop() throws Exception {
    gateway.close();
  }

  private static ThreadEvent confirmed(String id) {
    return ThreadEvent.newBuilder().setType(Type.MESSAGE_CONFIRMED).setThreadId(THREAD).setMessageId(id).build();
  }

  private static ThreadEvent deleted() {
    return ThreadEvent.newBuilder().setType(Type.THREAD_DELETED).setThreadId(THREAD).build();
  }

  /** Records what it is given and requests only what the test tells it to. */
  static final class Recorder implements Flow.Subscriber<ThreadEvent> {
    final List<String> events = new CopyOnWriteArrayList<>();
    final CompletableFuture<Void> end = new CompletableFuture<>();
    volatile Flow.Subscription subscription;

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
      this.subscription = subscription;
    }

    @Override
    public void onNext(ThreadEvent event) {
      events.add(event.getType() + " " + event.getMessageId());
    }

    @Override
    public void onError(Throwable failure) {
      end.completeExceptionally(failure);
    }

    @Override
    public void onComplete() {
      end.complete(null);
    }
  }

  @Test
  void aBrokenStreamResumesAfterTheLastDeliveredMessageAndRepeatsNothing() {
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.UNAVAILABLE, confirmed("01-a"), confirmed("01-b")));
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.RESOURCE_EXHAUSTED, confirmed("01-b")));
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-b"), confirmed("01-c"), deleted()));
    Recorder recorder = new Recorder();

    client.async().watch(THREAD, "01-0").subscribe(recorder);
    recorder.subscription.request(Long.MAX_VALUE);

    assertThat(recorder.end).succeedsWithin(WAIT);
    assertThat(recorder.events).containsExactly("MESSAGE_CONFIRMED 01-a", "MESSAGE_CONFIRMED 01-b",
        "MESSAGE_CONFIRMED 01-c", "THREAD_DELETED ");
    assertThat(gateway.store.watchRequests).extracting(r -> r.getAfterMessageId())
        .containsExactly("01-0", "01-b", "01-b");
  }

  @Test
  void theSubscriberGetsNoMoreThanItRequested() {
    gateway.store.watchScripts.add(WatchScript.thenStayOpen(confirmed("01-a"), confirmed("01-b"), confirmed("01-c")));
    Recorder recorder = new Recorder();
    client.async().watch(THREAD, "").subscribe(recorder);

    recorder.subscription.request(2);
    Poll.until(WAIT, "two events", () -> recorder.events.size() == 2);
    // The third event is on its way; it must wait for demand. Ask for it and see it arrive
    // only then, and nothing beyond it.
    assertThat(recorder.events).containsExactly("MESSAGE_CONFIRMED 01-a", "MESSAGE_CONFIRMED 01-b");
    recorder.subscription.request(5);
    Poll.until(WAIT, "the third event", () -> recorder.events.size() == 3);
    recorder.subscription.cancel();
    assertThat(recorder.end).isNotDone();
  }

  /** The thread is not the caller's, or not there: resuming could only be refused again. */
  @ParameterizedTest
  @EnumSource(value = Status.Code.class, names = {"PERMISSION_DENIED", "NOT_FOUND"})
  void aRefusalEndsTheWatchWithAnErrorAndNoResume(Status.Code code) {
    gateway.store.watchScripts.add(WatchScript.thenFail(code.toStatus().withDescription("refused: " + code)));
    Recorder recorder = new Recorder();

    client.async().watch(THREAD, "01-z").subscribe(recorder);
    recorder.subscription.request(1);

    assertThat(recorder.end).failsWithin(WAIT).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause().isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(code);
          assertThat(e.getRpc()).isEqualTo("WatchThread");
        });
    assertThat(gateway.store.watchRequests).hasSize(1);
  }

  @Test
  void aStreamTheServerCompletesCompletesTheSubscription() {
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-a")));
    Recorder recorder = new Recorder();

    client.async().watch(THREAD, "").subscribe(recorder);
    recorder.subscription.request(10);

    assertThat(recorder.end).succeedsWithin(WAIT);
    assertThat(recorder.events).containsExactly("MESSAGE_CONFIRMED 01-a");
  }

  @Test
  void resumptionsAreCountedInTheMetrics() {
    List<Status.Code> resumes = new CopyOnWriteArrayList<>();
    MessageStoreClient counting = MessageStoreClient.create(gateway.channel, () -> "jwt",
        client.options().toBuilder().metrics(new MessageStoreMetrics() {
          @Override
          public void watchResuming(Status.Code code) {
            resumes.add(code);
          }
        }).build());
    gateway.store.watchScripts.add(WatchScript.thenFail(Status.UNAVAILABLE, confirmed("01-a")));
    gateway.store.watchScripts.add(WatchScript.thenComplete(confirmed("01-b")));
    Recorder recorder = new Recorder();

    counting.async().watch(THREAD, "").subscribe(recorder);
    recorder.subscription.request(10);

    assertThat(recorder.end).succeedsWithin(WAIT);
    assertThat(resumes).containsExactly(Status.Code.UNAVAILABLE);
  }
}
