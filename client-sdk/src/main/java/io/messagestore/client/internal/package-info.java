/** Implementation details of the client; not an API, may change in any release. */
package io.messagestore.client.internal;
