/**
 * The gateway's settings: one immutable record per concern ({@link
 * io.messagestore.server.config.ServerSettings}, {@link io.messagestore.server.config.RedisSettings},
 * {@link io.messagestore.server.config.PersistenceSettings}, ...), composed by {@link
 * io.messagestore.server.config.GatewayConfig} and loaded by {@link
 * io.messagestore.server.config.ConfigLoader}.
 *
 * <p>Each setting is declared once, as a {@link io.messagestore.server.config.Setting} constant of
 * its record: name, default, parsing and rules. To add one, in the record of its concern: declare
 * the constant, add the component, check it in the constructor ({@code X.check(x)}) and read it in
 * {@code from} ({@code v.get(X)}); then add its row to the README's configuration table (a test
 * compares the table with the declarations). Nothing else changes: {@code --set} learns the name
 * from the records. A rule between settings of two concerns belongs in {@code GatewayConfig}'s
 * constructor.
 */
package io.messagestore.server.config;
