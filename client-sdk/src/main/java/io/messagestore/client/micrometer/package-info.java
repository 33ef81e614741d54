/**
 * Micrometer meters for a client's calls, retries and watch resumptions. Micrometer is an
 * optional dependency of the SDK: only this package needs it.
 */
package io.messagestore.client.micrometer;
