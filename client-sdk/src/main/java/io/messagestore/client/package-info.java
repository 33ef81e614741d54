/**
 * The MessageStore JVM client. {@link io.messagestore.client.MessageStoreClient} is the blocking
 * view and {@link io.messagestore.client.MessageStoreAsyncClient} (from {@code async()}) the
 * asynchronous one, on one channel; {@link io.messagestore.client.MessageStoreAdminClient} and
 * {@link io.messagestore.client.MessageStoreAdminAsyncClient} are the operator calls. Watches
 * resume themselves ({@link io.messagestore.client.ThreadWatch}, or a
 * {@link java.util.concurrent.Flow.Publisher} from the async view). Behaviour is set with
 * {@link io.messagestore.client.MessageStoreClientOptions} and a
 * {@link io.messagestore.client.RetryPolicy} per {@link io.messagestore.client.CallType};
 * failures are {@link io.messagestore.client.MessageStoreException}. Requests and results are the
 * generated protobuf types of {@code io.messagestore.api.v1}.
 */
package io.messagestore.client;
