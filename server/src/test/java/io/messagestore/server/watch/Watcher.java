package io.messagestore.server.watch;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.messagestore.api.v1.MessageStoreGrpc;
import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.api.v1.WatchThreadRequest;
import io.messagestore.server.testing.Poll;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

/**
 * One WatchThread call from a test, collecting what arrives. With {@code reading = false} it
 * takes nothing until {@link #read()}: a caller that stopped reading.
 */
final class Watcher implements ClientResponseObserver<WatchThreadRequest, ThreadEvent> {
  final List<ThreadEvent> events = new CopyOnWriteArrayList<>();
  private final boolean reading;
  private volatile ClientCallStreamObserver<WatchThreadRequest> call;
  private volatile Status ended;

  private Watcher(boolean reading) {
    this.reading = reading;
  }

  static Watcher start(MessageStoreGrpc.MessageStoreStub stub, String thread, String after) {
    return start(stub, thread, after, true);
  }

  static Watcher start(MessageStoreGrpc.MessageStoreStub stub, String thread, String after, boolean reading) {
    Watcher w = new Watcher(reading);
    stub.watchThread(WatchThreadRequest.newBuilder().setThreadId(thread).setAfterMessageId(after).build(), w);
    return w;
  }

  @Override
  public void beforeStart(ClientCallStreamObserver<WatchThreadRequest> call) {
    this.call = call;
    if (!reading) {
      call.disableAutoRequestWithInitial(0);
    }
  }

  void read() {
    call.request(Integer.MAX_VALUE);
  }

  void cancel() {
    call.cancel("test is done with it", null);
  }

  @Override
  public void onNext(ThreadEvent e) {
    events.add(e);
  }

  @Override
  public void onError(Throwable t) {
    ended = Status.fromThrowable(t);
  }

  @Override
  public void onCompleted() {
    ended = Status.OK;
  }

  Status ended() {
    return ended;
  }

  Status awaitEnd(Duration timeout) {
    Poll.until(timeout, "the watch to end", () -> ended != null);
    return ended;
  }

  List<ThreadEvent> of(ThreadEvent.Type type) {
    return events.stream().filter(e -> e.getType() == type).toList();
  }

  /** Where the event of this type about this message is in the stream, -1 if it never came. */
  int indexOf(ThreadEvent.Type type, String messageId) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).getType() == type && events.get(i).getMessageId().equals(messageId)) {
        return i;
      }
    }
    return -1;
  }

  List<String> confirmedIds() {
    return of(ThreadEvent.Type.MESSAGE_CONFIRMED).stream().map(ThreadEvent::getMessageId).toList();
  }

  void awaitEvents(Duration timeout, String what, Predicate<Watcher> done) {
    Poll.until(timeout, what + " (" + events.size() + " events so far, ended " + ended + ")", () -> {
      if (ended != null && !done.test(this)) {
        throw new AssertionError("the watch ended with " + ended + " before " + what);
      }
      return done.test(this);
    });
  }
}
