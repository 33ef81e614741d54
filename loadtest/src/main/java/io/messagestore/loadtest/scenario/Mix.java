package io.messagestore.loadtest.scenario;

import io.messagestore.loadtest.LoadTestException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The proportions of a mixed scenario, e.g. {@code send=60,get=25,list=10,watch=5}, turned
 * into a fixed schedule in which the operations interleave evenly (smooth weighted
 * round-robin), so that call number n's operation is one array read, not a random draw.
 */
public final class Mix {

    public enum Operation { SEND, GET, LIST, WATCH, STATS }

    private final Map<Operation, Integer> weights;
    private final Operation[] schedule;

    private Mix(Map<Operation, Integer> weights, Operation[] schedule) {
        this.weights = weights;
        this.schedule = schedule;
    }

    public static Mix parse(String text) {
        Map<Operation, Integer> weights = new LinkedHashMap<>();
        for (String part : text.split(",")) {
            String[] kv = part.trim().split("=");
            if (kv.length != 2) {
                throw new LoadTestException("--mix '" + text + "': expected op=weight,... (ops: send, get, list, watch, stats)");
            }
            Operation op;
            try {
                op = Operation.valueOf(kv[0].trim().toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new LoadTestException("--mix: unknown operation '" + kv[0].trim() + "' (send, get, list, watch, stats)");
            }
            int weight;
            try {
                weight = Integer.parseInt(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new LoadTestException("--mix: weight of " + kv[0].trim() + " is not an integer");
            }
            if (weight < 0) {
                throw new LoadTestException("--mix: weights must not be negative");
            }
            if (weight > 0) {
                weights.put(op, weight);
            }
        }
        if (weights.isEmpty()) {
            throw new LoadTestException("--mix: at least one operation needs a positive weight");
        }
        int gcd = weights.values().stream().reduce(0, Mix::gcd);
        weights.replaceAll((op, w) -> w / gcd);
        int sum = weights.values().stream().mapToInt(Integer::intValue).sum();
        List<Operation> ops = new ArrayList<>(weights.keySet());
        int[] current = new int[ops.size()];
        Operation[] schedule = new Operation[sum];
        for (int slot = 0; slot < sum; slot++) {
            int best = 0;
            for (int i = 0; i < ops.size(); i++) {
                current[i] += weights.get(ops.get(i));
                if (current[i] > current[best]) {
                    best = i;
                }
            }
            current[best] -= sum;
            schedule[slot] = ops.get(best);
        }
        return new Mix(Map.copyOf(weights), schedule);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** The operation of call number {@code n}. */
    public Operation operationOf(long n) {
        return schedule[(int) (n % schedule.length)];
    }

    public Map<Operation, Integer> weights() {
        return weights;
    }
}
