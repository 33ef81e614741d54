package io.messagestore.server.consistency;

/**
 * One disagreement between tiers.
 *
 * @param messageId empty for a finding about a whole thread
 * @param repaired every repair it called for was applied
 */
public record Finding(FindingKind kind, String threadId, String messageId, String detail, boolean repaired) {}
