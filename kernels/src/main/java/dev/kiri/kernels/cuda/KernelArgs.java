package dev.kiri.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The argument array of a kernel launch ({@code void** kernelParams}), allocated once and
 * refilled for every launch so that launching allocates nothing. Each argument takes an 8-byte
 * slot; the driver reads as many bytes as the kernel's parameter has. Not thread-safe: one per
 * launching thread.
 */
public final class KernelArgs {
    private final int capacity;
    private final MemorySegment values;
    private final MemorySegment pointers;
    private int count;

    /** Room for {@code capacity} arguments. */
    public KernelArgs(int capacity) {
        this.capacity = capacity;
        Arena arena = Arena.ofAuto();
        values = arena.allocate(8L * capacity, 8);
        pointers = arena.allocate(ValueLayout.ADDRESS.byteSize() * capacity, 8);
        for (int i = 0; i < capacity; i++) {
            pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i, 8));
        }
    }

    /** Starts a new argument list. */
    public KernelArgs clear() {
        count = 0;
        return this;
    }

    private long slot() {
        if (count == capacity) throw new IllegalStateException("more than " + capacity + " kernel arguments");
        return 8L * count++;
    }

    /** Appends a device pointer ({@code 0} for a null pointer). */
    public KernelArgs ptr(long deviceAddress) {
        values.set(ValueLayout.JAVA_LONG, slot(), deviceAddress);
        return this;
    }

    /** Appends a device pointer to the start of {@code b}, or a null pointer when {@code b} is null. */
    public KernelArgs ptr(DeviceBuffer b) {
        return ptr(b == null ? 0L : b.address());
    }

    /** Appends an {@code int}. */
    public KernelArgs i32(int v) {
        values.set(ValueLayout.JAVA_LONG, slot(), v & 0xffffffffL);
        return this;
    }

    /** Appends a {@code long long}. */
    public KernelArgs i64(long v) {
        values.set(ValueLayout.JAVA_LONG, slot(), v);
        return this;
    }

    /** Appends a {@code float}. */
    public KernelArgs f32(float v) {
        values.set(ValueLayout.JAVA_LONG, slot(), Float.floatToRawIntBits(v) & 0xffffffffL);
        return this;
    }

    /** Arguments appended since {@link #clear()}. */
    public int count() {
        return count;
    }

    MemorySegment pointers() {
        return pointers;
    }
}
