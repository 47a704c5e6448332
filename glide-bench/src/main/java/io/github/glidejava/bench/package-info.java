/** JMH benchmarks of GLIDE's layers at their real shapes, and full-size forward harnesses. */
package io.github.glidejava.bench;
