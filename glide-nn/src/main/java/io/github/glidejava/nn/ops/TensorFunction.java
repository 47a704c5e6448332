package io.github.glidejava.nn.ops;

import java.util.Map;

/**
 * A computation written once for both back-ends: named inputs to named outputs. (A generic method cannot be a
 * lambda; implement it with an anonymous class.)
 */
public interface TensorFunction {
    <T> Map<String, T> apply(TensorOps<T> ops, Map<String, T> inputs);
}
