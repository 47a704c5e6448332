package io.github.glidejava.bench;

import java.util.List;

import org.nd4j.linalg.api.ndarray.INDArray;

import io.github.glidejava.core.random.PortableRandom;
import io.github.glidejava.nn.params.ParamInit;
import io.github.glidejava.nn.params.ParamSpec;
import io.github.glidejava.nn.params.ParameterStore;

/**
 * Random parameters for timing: PyTorch's default initialisation, except that the weights glide zero-initialises
 * ({@code zero_module}: each ResBlock's last conv, attention {@code proj_out}, the output conv) get fan-in uniform
 * values too, so no layer's output is exactly zero. Dense kernels do not care, but it keeps every activation
 * realistic.
 */
public final class RandomWeights {
    private RandomWeights() {
    }

    public static ParameterStore of(List<ParamSpec> specs, long seed) {
        ParameterStore store = ParameterStore.initialise(specs, seed);
        PortableRandom rng = new PortableRandom(seed + 1);
        for (ParamSpec s : specs) {
            long[] torch = s.torchShape();
            if (s.init().kind() == ParamInit.Kind.CONSTANT && s.init().value() == 0.0) {
                long fanIn = 1;
                for (int i = 1; i < torch.length; i++) {
                    fanIn *= torch[i];
                }
                double bound = 1.0 / Math.sqrt(torch.length >= 2 ? fanIn : 64);
                INDArray arr = store.get(s.key());
                // stored parameters are dense C-order copies: their buffer is the array, in order
                rng.fillUniform(arr.data().asNioFloat(), arr.length(), (float) -bound, (float) bound);
            }
        }
        return store;
    }
}
