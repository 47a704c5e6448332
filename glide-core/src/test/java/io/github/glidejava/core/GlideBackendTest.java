package io.github.glidejava.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class GlideBackendTest {

    @Test
    void loadsTheOneDnnBuildWhenItIsOnTheClassPath() {
        GlideBackend.init();
        Nd4j.create(DataType.FLOAT, 2, 2); // make sure the native library is loaded
        String loaded = GlideBackend.buildDescription();
        assertTrue(org.bytedeco.javacpp.Loader.getLoadedLibraries().values().stream()
                .anyMatch(p -> p != null && p.contains("/bindings/" + loaded + "/")), "no native library of " + loaded);
        if (GlideBackend.oneDnnBuildOnClassPath()) {
            assertTrue(loaded.endsWith(GlideBackend.ONEDNN_EXTENSION), "loaded " + loaded);
        }
        assertTrue(Long.parseLong(System.getProperty(GlideBackend.MAX_BYTES_PROPERTY)) > 0);
    }

    @Test
    void initIsIdempotentAndNd4jComputesInFloat32() {
        GlideBackend.init();
        GlideBackend.init();
        assertEquals(DataType.FLOAT, Nd4j.defaultFloatingPointType());
        INDArray a = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}});
        INDArray c = a.mmul(a);
        assertEquals(DataType.FLOAT, c.dataType());
        assertEquals(7f, c.getFloat(0, 0), 0f);
        assertEquals(22f, c.getFloat(1, 1), 0f);
    }

    @Test
    void convolutionRunsOnTheSelectedBuild() {
        GlideBackend.init();
        // a 3x3 conv of ones over ones, padding 1: corners see 4 pixels, edges 6, the inside 9 (times 2 channels)
        INDArray x = Nd4j.ones(DataType.FLOAT, 1, 2, 4, 4);
        INDArray w = Nd4j.ones(DataType.FLOAT, 3, 3, 2, 1); // YXIO
        INDArray y = Nd4j.cnn().conv2d(x, w, org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig.builder()
                .kH(3).kW(3).sH(1).sW(1).pH(1).pW(1).dH(1).dW(1)
                .paddingMode(org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode.VALID)
                .dataFormat(org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig.NCHW)
                .weightsFormat(org.nd4j.enums.WeightsFormat.YXIO).build());
        assertEquals(8f, y.getFloat(0, 0, 0, 0), 0f);
        assertEquals(12f, y.getFloat(0, 0, 0, 1), 0f);
        assertEquals(18f, y.getFloat(0, 0, 1, 1), 0f);
    }
}
