package io.github.glidejava.nn.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

/** What the pool takes back, what it hands out again, and how trimming bounds it. */
class ArrayPoolTest {
    @BeforeAll
    static void init() {
        GlideBackend.init();
    }

    @AfterEach
    void empty() {
        ArrayPool.clear();
    }

    @Test
    void aBufferGivenBackIsReusedForTheSameTypeAndLength() {
        INDArray a = ArrayPool.uninitialized(DataType.FLOAT, 4, 6);
        assertTrue(ArrayPool.recycle(a));
        assertEquals(96, ArrayPool.bytes());
        INDArray otherType = ArrayPool.uninitialized(DataType.DOUBLE, 24);
        assertNotSame(a.data(), otherType.data(), "another type does not take it");
        INDArray b = ArrayPool.uninitialized(DataType.FLOAT, 2, 3, 4);
        assertSame(a.data(), b.data(), "same type and length, any shape");
        assertArrayEquals(new long[] {2, 3, 4}, b.shape());
        assertEquals('c', b.ordering());
        assertEquals(0, ArrayPool.bytes());
        assertEquals(0.0, ArrayPool.zeros(DataType.FLOAT, 5).sumNumber().doubleValue());
    }

    @Test
    void viewsClosedAndWorkspaceArraysAreRefused() {
        INDArray a = Nd4j.rand(DataType.FLOAT, 4, 4);
        assertFalse(ArrayPool.recycle(a.getRow(1)), "a view shares its buffer");
        INDArray closed = Nd4j.rand(DataType.FLOAT, 4);
        closed.close();
        assertFalse(ArrayPool.recycle(closed));
        WorkspaceConfiguration conf = WorkspaceConfiguration.builder().initialSize(1 << 20).build();
        try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(conf, "ArrayPoolTest")) {
            assertFalse(ArrayPool.recycle(Nd4j.create(DataType.FLOAT, 8)), "an array in a workspace");
            assertTrue(ArrayPool.recycle(Nd4j.create(DataType.FLOAT, 3).detach()));
            assertTrue(ArrayPool.uninitialized(DataType.FLOAT, 3).isAttached(),
                    "inside a workspace arrays come from the workspace");
        }
        assertEquals(0, ArrayPool.bytes() - 12, "the detached one waits in the pool");
    }

    @Test
    void trimKeepsWhatWasInUseAtOnce() {
        // a unit of work holds two arrays of 10 floats at once, and gives back three (one made by someone else)
        for (int unit = 0; unit < 3; unit++) {
            INDArray a = ArrayPool.uninitialized(DataType.FLOAT, 10);
            INDArray b = ArrayPool.uninitialized(DataType.FLOAT, 10);
            ArrayPool.recycle(a);
            ArrayPool.recycle(b);
            ArrayPool.recycle(Nd4j.create(DataType.FLOAT, 10));
            ArrayPool.trim();
            assertEquals(80, ArrayPool.bytes(), "unit " + unit + ": two buffers kept, the third dropped");
        }
        ArrayPool.trim();
        assertEquals(0, ArrayPool.bytes(), "nothing asked for since the last trim: nothing kept");
    }
}
