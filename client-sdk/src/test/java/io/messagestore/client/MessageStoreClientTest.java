package io.messagestore.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.messagestore.api.v1.Durability;
import io.messagestore.api.v1.ListMessagesRequest;
import io.messagestore.api.v1.Message;
import io.messagestore.api.v1.Role;
import io.messagestore.api.v1.SendMessageRequest;
import io.messagestore.api.v1.SendMessageResponse;
import io.messagestore.api.v1.ThreadSummary;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MessageStoreClientTest {
  private static final String THREAD = "thread-1";

  private final FakeMessageStore fake = new FakeMessageStore();
  private final AtomicReference<String> token = new AtomicReference<>("token-1");
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void startServer() throws Exception {
    // A unique name keeps tests independent even if a server from an earlier test lingers.
    String name = "messagestore-" + UUID.randomUUID();
    server = InProcessServerBuilder.forName(name)
        .directExecutor()
        .addService(ServerInterceptors.intercept(fake, fake.headerRecorder()))
        .build()
        .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
  }

  @AfterEach
  void stopServer() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private MessageStoreClient client() {
    return client(MessageStoreClientOptions.defaults());
  }

  private MessageStoreClient client(MessageStoreClientOptions options) {
    return MessageStoreClient.create(channel, token::get, options);
  }

  private static MessageStoreClientOptions pageSize(int size) {
    return MessageStoreClientOptions.builder().pageSize(size).build();
  }

  private static List<String> ids(Stream<Message> messages) {
    return messages.map(Message::getMessageId).toList();
  }

  // --- authentication ---

  @Test
  void everyCallCarriesTheBearerTokenTheSupplierGivesAtThatMoment() {
    MessageStoreClient client = client();

    client.send(THREAD, Role.ROLE_USER, "first");
    token.set("token-2");
    client.send(THREAD, Role.ROLE_USER, "second");

    assertThat(fake.authorizationHeaders).containsExactly("Bearer token-1", "Bearer token-2");
  }

  @Test
  void everyPageOfALongListingAsksTheSupplierAgain() {
    fake.addMessages(THREAD, 4);
    MessageStoreClient client = client(pageSize(2));

    var messages = client.messages(THREAD).iterator();
    messages.next();
    token.set("token-2");
    messages.forEachRemaining(m -> { });

    assertThat(fake.authorizationHeaders).containsExactly("Bearer token-1", "Bearer token-2");
  }

  @Test
  void throwingTokenSupplierFailsTheCallAsUnauthenticatedBeforeItReachesTheServer() {
    MessageStoreClient client = MessageStoreClient.create(channel,
        () -> { throw new IllegalStateException("vault unreachable"); },
        MessageStoreClientOptions.defaults());

    assertThatThrownBy(() -> client.send(THREAD, Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getDescription()).contains("token supplier failed").contains("vault unreachable");
        });
    assertThat(fake.sendRequests).isEmpty();
  }

  @Test
  void blankTokenFailsTheCallAsUnauthenticatedBeforeItReachesTheServer() {
    token.set(" ");

    assertThatThrownBy(() -> client().send(THREAD, Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
          assertThat(e.getDescription()).isEqualTo("token supplier returned no token");
        });
    assertThat(fake.sendRequests).isEmpty();
  }

  // --- paging ---

  @Test
  void messagesFetchesNothingUntilConsumedAndOnlyTheFirstPageForTheFirstElement() {
    fake.addMessages(THREAD, 7);
    MessageStoreClient client = client(pageSize(2));

    Stream<Message> messages = client.messages(THREAD, false);
    assertThat(fake.listMessagesRequests).isEmpty();

    assertThat(messages.findFirst()).map(Message::getMessageId).contains("m-0000");
    assertThat(fake.listMessagesRequests).hasSize(1);
  }

  @Test
  void messagesReadsEveryPageInOrderByFollowingTheNextPageToken() {
    fake.addMessages(THREAD, 7);
    MessageStoreClient client = client(pageSize(2));

    assertThat(ids(client.messages(THREAD, false)))
        .containsExactlyElementsOf(IntStream.range(0, 7).mapToObj(i -> String.format("m-%04d", i)).toList());
    assertThat(fake.listMessagesRequests)
        .extracting(ListMessagesRequest::getPageToken)
        .containsExactly("", "2", "4", "6");
    assertThat(fake.listMessagesRequests)
        .allSatisfy(r -> {
          assertThat(r.getThreadId()).isEqualTo(THREAD);
          assertThat(r.getPageSize()).isEqualTo(2);
        });
  }

  @Test
  void limitStopsPagingOnceItHasEnough() {
    fake.addMessages(THREAD, 7);
    MessageStoreClient client = client(pageSize(2));

    assertThat(ids(client.messages(THREAD).limit(3))).containsExactly("m-0000", "m-0001", "m-0002");
    assertThat(fake.listMessagesRequests).hasSize(2);
  }

  @Test
  void newestFirstIsSentWithEveryPageRequest() {
    fake.addMessages(THREAD, 5);
    MessageStoreClient client = client(pageSize(2));

    assertThat(ids(client.messages(THREAD, true)))
        .containsExactly("m-0004", "m-0003", "m-0002", "m-0001", "m-0000");
    assertThat(fake.listMessagesRequests).hasSize(3).allMatch(ListMessagesRequest::getNewestFirst);
  }

  @Test
  void oldestFirstIsTheDefaultDirection() {
    fake.addMessages(THREAD, 1);

    client().messages(THREAD).toList();

    assertThat(fake.listMessagesRequests).singleElement()
        .satisfies(r -> assertThat(r.getNewestFirst()).isFalse());
  }

  @Test
  void threadsReadsEveryPage() {
    for (int i = 0; i < 5; i++) {
      fake.threads.add(ThreadSummary.newBuilder().setThreadId("t" + i).build());
    }

    List<ThreadSummary> threads = client(pageSize(2)).threads();

    assertThat(threads).extracting(ThreadSummary::getThreadId).containsExactly("t0", "t1", "t2", "t3", "t4");
    assertThat(fake.listThreadsRequests).hasSize(3);
  }

  // --- errors ---

  @Test
  void serverErrorBecomesMessageStoreExceptionWithCodeAndDescription() {
    fake.failWith = Status.PERMISSION_DENIED.withDescription("thread 'x' belongs to another user");

    assertThatThrownBy(() -> client().send("x", Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class, e -> {
          assertThat(e.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
          assertThat(e.getDescription()).isEqualTo("thread 'x' belongs to another user");
          assertThat(e.getRpc()).isEqualTo("SendMessage");
        })
        .hasMessage("SendMessage failed: PERMISSION_DENIED: thread 'x' belongs to another user");
  }

  @Test
  void pageFailureSurfacesWhenTheStreamIsConsumedNamingListMessages() {
    fake.failWith = Status.UNAVAILABLE.withDescription("no tier can take the call");
    Stream<Message> messages =
        client(MessageStoreClientOptions.builder().noRetries().build()).messages(THREAD);

    assertThatThrownBy(messages::toList)
        .isInstanceOf(MessageStoreException.class)
        .hasMessage("ListMessages failed: UNAVAILABLE: no tier can take the call");
  }

  @Test
  void getReturnsTheMessageAndUnknownIdIsNotFound() {
    fake.addMessages(THREAD, 2);
    MessageStoreClient client = client();

    assertThat(client.get(THREAD, "m-0001").getContent()).isEqualTo("message 1");
    assertThatThrownBy(() -> client.get(THREAD, "nope"))
        .isInstanceOfSatisfying(MessageStoreException.class,
            e -> assertThat(e.getCode()).isEqualTo(Status.Code.NOT_FOUND))
        .hasMessage("GetMessage failed: NOT_FOUND: message 'nope' not found");
  }

  @Test
  void deadlineOptionCutsOffACallTheServerNeverAnswers() {
    fake.neverAnswer = true;
    MessageStoreClient client = client(
        MessageStoreClientOptions.builder().deadline(Duration.ofMillis(200)).noRetries().build());

    long start = System.nanoTime();
    assertThatThrownBy(() -> client.send(THREAD, Role.ROLE_USER, "hi"))
        .isInstanceOfSatisfying(MessageStoreException.class,
            e -> assertThat(e.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
    Duration elapsed = Duration.ofNanos(System.nanoTime() - start);

    assertThat(elapsed).isBetween(Duration.ofMillis(150), Duration.ofSeconds(1));
  }

  // --- sending and idempotency ---

  @Test
  void sendWithoutKeyGetsARandomUuidIdempotencyKey() {
    MessageStoreClient client = client();

    SendMessageResponse response = client.send(THREAD, Role.ROLE_ASSISTANT, "hello");

    SendMessageRequest sent = fake.sendRequests.peek();
    assertThat(UUID.fromString(sent.getIdempotencyKey())).isNotNull();
    assertThat(sent.getThreadId()).isEqualTo(THREAD);
    assertThat(sent.getRole()).isEqualTo(Role.ROLE_ASSISTANT);
    assertThat(sent.getDurability()).isEqualTo(Durability.DURABILITY_CACHE);
    assertThat(response.getMessage().getContent()).isEqualTo("hello");
  }

  @Test
  void sendKeepsAnIdempotencyKeyTheCallerSet() {
    client().send(request("hello").toBuilder().setIdempotencyKey("my-key").build());

    assertThat(fake.sendRequests).extracting(SendMessageRequest::getIdempotencyKey).containsExactly("my-key");
  }

  @Test
  void autoIdempotencyKeysOffSendsTheRequestUnchanged() {
    MessageStoreClient client = client(
        MessageStoreClientOptions.builder().autoIdempotencyKeys(false).build());

    client.send(request("hello"));

    assertThat(fake.sendRequests).singleElement().isEqualTo(request("hello"));
  }

  @Test
  void retryingIsSafeWithARequestGivenAKeyUpFrontButNotWithAKeylessOne() {
    // Protobuf requests are immutable, so the auto key cannot follow a keyless object into a
    // second send; this pins down the documented contract.
    MessageStoreClient client = client();
    SendMessageRequest keyless = request("hello");
    client.send(keyless);
    client.send(keyless);
    SendMessageRequest keyed = MessageStoreClient.withIdempotencyKey(keyless);
    client.send(keyed);
    client.send(keyed);

    List<String> keys = fake.sendRequests.stream().map(SendMessageRequest::getIdempotencyKey).toList();
    assertThat(keys.get(0)).isNotEqualTo(keys.get(1));
    assertThat(keys.get(2)).isEqualTo(keys.get(3)).isEqualTo(keyed.getIdempotencyKey());
  }

  @Test
  void sendDurableAsksForDurableDurability() {
    client().sendDurable(THREAD, Role.ROLE_USER, "hello");

    assertThat(fake.sendRequests).singleElement()
        .satisfies(r -> assertThat(r.getDurability()).isEqualTo(Durability.DURABILITY_DURABLE));
  }

  @Test
  void sendBatchKeysKeylessMessagesKeepsGivenKeysAndAnswersInOrder() {
    List<SendMessageResponse> results = client().sendBatch(THREAD, List.of(
        request("a"),
        request("b").toBuilder().setIdempotencyKey("key-b").build()));

    var sent = fake.batchRequests.peek();
    assertThat(sent.getThreadId()).isEqualTo(THREAD);
    assertThat(UUID.fromString(sent.getMessages(0).getIdempotencyKey())).isNotNull();
    assertThat(sent.getMessages(1).getIdempotencyKey()).isEqualTo("key-b");
    assertThat(results).extracting(r -> r.getMessage().getContent()).containsExactly("a", "b");
  }

  // --- lifecycle ---

  @Test
  void closeLeavesACallerOwnedChannelOpenButRejectsFurtherCalls() {
    MessageStoreClient client = client();
    client.close();

    assertThat(channel.isShutdown()).isFalse();
    assertThatThrownBy(() -> client.send(THREAD, Role.ROLE_USER, "hi"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("MessageStoreClient is closed");
  }

  private static SendMessageRequest request(String content) {
    return SendMessageRequest.newBuilder()
        .setThreadId(THREAD).setRole(Role.ROLE_USER).setContent(content).build();
  }
}
