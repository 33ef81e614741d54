package io.messagestore.examples;

import io.messagestore.api.v1.ThreadEvent;
import io.messagestore.client.MessageStoreClient;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;

/**
 * Prints a thread's events as they come, until the thread is deleted (or {@code MAX} events).
 * The watch resumes by itself after a broken stream (a gateway restart), after the last message
 * it delivered, so nothing is printed twice or missed.
 *
 * <p>Usage: {@code WatchThread TARGET TOKEN THREAD [AFTER_MESSAGE_ID [MAX]]}.
 */
public final class WatchThread {
  private WatchThread() {}

  /** Runs the example; see the class comment for the arguments. */
  public static void main(String[] args) throws InterruptedException {
    String after = args.length > 3 ? args[3] : "";
    long max = args.length > 4 ? Long.parseLong(args[4]) : Long.MAX_VALUE;
    CountDownLatch ended = new CountDownLatch(1);
    try (MessageStoreClient client = MessageStoreClient.builder()
        .target(args[0]).plaintext().tokenSupplier(() -> args[1]).build()) {
      client.async().watch(args[2], after).subscribe(new Flow.Subscriber<ThreadEvent>() {
        private Flow.Subscription subscription;
        private long seen;

        @Override
        public void onSubscribe(Flow.Subscription s) {
          subscription = s;
          s.request(16); // demand: the gateway sends no more than this until asked
        }

        @Override
        public void onNext(ThreadEvent event) {
          System.out.println(event.getType() + " " + event.getMessageId() + " "
              + event.getMessage().getContent());
          if (++seen >= max) {
            subscription.cancel();
            ended.countDown();
          } else {
            subscription.request(1);
          }
        }

        @Override
        public void onError(Throwable failure) {
          System.err.println("watch ended: " + failure.getMessage());
          ended.countDown();
        }

        @Override
        public void onComplete() {
          ended.countDown();
        }
      });
      ended.await();
    }
  }
}
