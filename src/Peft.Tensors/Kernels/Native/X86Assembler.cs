namespace Peft.Tensors.Kernels.Native;

/// <summary>
/// Encodes the few x86-64 instructions of the kernels built at run time (<see cref="Int8VnniTileKernel"/>, <see cref="Int8VnniPanelKernel"/>): general
/// register moves and loop control, and the AVX-512 (EVEX, 512-bit) loads, stores and multiply-adds that .NET does not
/// expose on every CPU that has them, including multiply-adds and arithmetic on one element of memory repeated in every lane
/// (embedded broadcast). Memory operands are always [base + index·1 + disp32], [base + disp32] or a compare against
/// [rsp], which needs no displacement compression and no special cases beyond rsp/r12 as a base.
/// </summary>
internal sealed class X86Assembler
{
    // General registers by number; r8-r15 are 8-15.
    public const int Rax = 0, Rcx = 1, Rdx = 2, Rbx = 3, Rsp = 4, Rbp = 5, Rsi = 6, Rdi = 7, R8 = 8, R9 = 9, R10 = 10, R11 = 11,
        R12 = 12, R13 = 13, R14 = 14, R15 = 15;

    private readonly List<byte> _code = [];

    /// <summary>Bytes emitted so far (the offset of the next instruction).</summary>
    public int Position => _code.Count;

    /// <summary>The machine code.</summary>
    public byte[] ToArray() => [.. _code];

    public void Push(int register)
    {
        if (register >= 8) Emit(0x41);
        Emit((byte)(0x50 + (register & 7)));
    }

    public void Pop(int register)
    {
        if (register >= 8) Emit(0x41);
        Emit((byte)(0x58 + (register & 7)));
    }

    public void Ret() => Emit(0xC3);

    /// <summary>vzeroupper: leaves no dirty upper vector state behind for the SSE code that runs next.</summary>
    public void Vzeroupper() => Emit(0xC5, 0xF8, 0x77);

    /// <summary>destination = a + b (lea destination, [a + b]).</summary>
    public void AddRegisters(int destination, int a, int b)
    {
        Emit(Rex(true, destination, b, a), 0x8D);
        IndexedOperand(destination, a, b, 0);
    }

    /// <summary>register = 0 (xor register, register).</summary>
    public void Clear(int register) => Emit(Rex(true, register, 0, register), 0x31, (byte)(0xC0 | (register & 7) << 3 | (register & 7)));

    /// <summary>register += value.</summary>
    public void AddImmediate(int register, int value)
    {
        Emit(Rex(true, 0, 0, register), 0x81, (byte)(0xC0 | (register & 7)));
        Emit32(value);
    }

    /// <summary>Sets the flags from a − b (cmp a, b).</summary>
    public void Compare(int a, int b) => Emit(Rex(true, b, 0, a), 0x39, (byte)(0xC0 | (b & 7) << 3 | (a & 7)));

    /// <summary>Sets the flags from register − [rsp] (cmp register, [rsp]): a bound kept on the stack when no register is free.</summary>
    public void CompareWithStackTop(int register) => Emit(Rex(true, register, 0, 0), 0x3B, (byte)((register & 7) << 3 | 0b100), 0x24);

    /// <summary>Jumps to <paramref name="target"/> when the last comparison's a was below b (unsigned).</summary>
    public void JumpIfBelow(int target)
    {
        Emit(0x0F, 0x82);
        Emit32(target - (Position + 4));
    }

    /// <summary>prefetcht0 [base + index].</summary>
    public void Prefetch(int @base, int index)
    {
        byte rex = Rex(false, 0, index, @base);
        if (rex != 0x40) Emit(rex);
        Emit(0x0F, 0x18);
        IndexedOperand(1, @base, index, 0);
    }

    /// <summary>vmovdqu8 zmm, [base + index] (64 bytes).</summary>
    public void Load(int zmm, int @base, int index)
    {
        Evex(map: 1, prefix: 3, zmm, 0, @base, index, rmIsVector: false);
        Emit(0x6F);
        IndexedOperand(zmm, @base, index, 0);
    }

    /// <summary>vmovdqu8 zmm, [base + displacement] (64 bytes).</summary>
    public void LoadAt(int zmm, int @base, int displacement)
    {
        Evex(map: 1, prefix: 3, zmm, 0, @base, 0, rmIsVector: false);
        Emit(0x6F);
        BaseOperand(zmm, @base, displacement);
    }

    /// <summary>mov register, [base + displacement] (64-bit).</summary>
    public void LoadRegister(int register, int @base, int displacement)
    {
        Emit(Rex(true, register, 0, @base), 0x8B);
        BaseOperand(register, @base, displacement);
    }

    /// <summary>vmovdqu32 [base + displacement], zmm.</summary>
    public void Store(int @base, int displacement, int zmm)
    {
        Evex(map: 1, prefix: 2, zmm, 0, @base, 0, rmIsVector: false);
        Emit(0x7F);
        BaseOperand(zmm, @base, displacement);
    }

    /// <summary>vpxord zmm, zmm, zmm.</summary>
    public void ClearVector(int zmm)
    {
        Evex(map: 1, prefix: 1, zmm, zmm, zmm, 0, rmIsVector: true);
        Emit(0xEF, (byte)(0xC0 | (zmm & 7) << 3 | (zmm & 7)));
    }

    /// <summary>vpdpbusd accumulator, unsignedBytes, signedBytes: each int32 lane adds four uint8 × int8 products.</summary>
    public void MultiplyAddBytes(int accumulator, int unsignedBytes, int signedBytes)
    {
        Evex(map: 2, prefix: 1, accumulator, unsignedBytes, signedBytes, 0, rmIsVector: true);
        Emit(0x50, (byte)(0xC0 | (accumulator & 7) << 3 | (signedBytes & 7)));
    }

    /// <summary>
    /// vpdpbusd accumulator, unsignedBytes, dword [base + index + displacement]{1to16}: each int32 lane adds the four
    /// products of its uint8 lanes with the four int8 values read once from memory and repeated in every lane.
    /// </summary>
    public void MultiplyAddBytesBroadcast(int accumulator, int unsignedBytes, int @base, int index, int displacement)
    {
        Evex(map: 2, prefix: 1, accumulator, unsignedBytes, @base, index, rmIsVector: false, broadcast: true);
        Emit(0x50);
        IndexedOperand(accumulator, @base, index, displacement);
    }

    /// <summary>vpsubd zmm, zmm, dword [base + displacement]{1to16}: every int32 lane less one value from memory.</summary>
    public void SubtractInt32Broadcast(int zmm, int @base, int displacement)
    {
        Evex(map: 1, prefix: 1, zmm, zmm, @base, 0, rmIsVector: false, broadcast: true);
        Emit(0xFA);
        BaseOperand(zmm, @base, displacement);
    }

    /// <summary>vcvtdq2ps destination, source: int32 lanes to float (rounded to nearest even).</summary>
    public void ConvertInt32ToSingle(int destination, int source)
    {
        Evex(map: 1, prefix: 0, destination, 0, source, 0, rmIsVector: true);
        Emit(0x5B, (byte)(0xC0 | (destination & 7) << 3 | (source & 7)));
    }

    /// <summary>vmulps zmm, zmm, [base + displacement]: sixteen floats, or with <paramref name="broadcast"/> one float repeated.</summary>
    public void MultiplySingle(int zmm, int @base, int displacement, bool broadcast)
    {
        Evex(map: 1, prefix: 0, zmm, zmm, @base, 0, rmIsVector: false, broadcast: broadcast);
        Emit(0x59);
        BaseOperand(zmm, @base, displacement);
    }

    /// <summary>vcvtph2ps zmm, [base + displacement]: sixteen IEEE halves (32 bytes) widened to float, exactly.</summary>
    public void ConvertHalfToSingle(int zmm, int @base, int displacement)
    {
        Evex(map: 2, prefix: 1, zmm, 0, @base, 0, rmIsVector: false);
        Emit(0x13);
        BaseOperand(zmm, @base, displacement);
    }

    /// <summary>vfmadd231ps accumulator, a, [base + displacement]: accumulator += a · sixteen floats from memory.</summary>
    public void MultiplyAddSingle(int accumulator, int a, int @base, int displacement)
    {
        Evex(map: 2, prefix: 1, accumulator, a, @base, 0, rmIsVector: false);
        Emit(0xB8);
        BaseOperand(accumulator, @base, displacement);
    }

    /// <summary>vaddps destination, a, b.</summary>
    public void AddSingle(int destination, int a, int b)
    {
        Evex(map: 1, prefix: 0, destination, a, b, 0, rmIsVector: true);
        Emit(0x58, (byte)(0xC0 | (destination & 7) << 3 | (b & 7)));
    }

    /// <summary>vpshufd destination, source, control: within each 128-bit lane, 32-bit element i = source[c_i] (two bits each, low first).</summary>
    public void ShuffleInt32(int destination, int source, byte control)
    {
        Evex(map: 1, prefix: 1, destination, 0, source, 0, rmIsVector: true);
        Emit(0x70, (byte)(0xC0 | (destination & 7) << 3 | (source & 7)), control);
    }

    /// <summary>vmovss [base + displacement], xmm: the lowest float of a vector register.</summary>
    public void StoreScalarSingle(int @base, int displacement, int xmm)
    {
        Evex(map: 1, prefix: 2, xmm, 0, @base, 0, rmIsVector: false, scalar: true);
        Emit(0x11);
        BaseOperand(xmm, @base, displacement);
    }

    /// <summary>destination = source (mov r64, r64).</summary>
    public void Move(int destination, int source) =>
        Emit(Rex(true, source, 0, destination), 0x89, (byte)(0xC0 | (source & 7) << 3 | (destination & 7)));

    /// <summary>vpunpckldq destination, a, b: per 128-bit lane [a0, b0, a1, b1].</summary>
    public void InterleaveLow32(int destination, int a, int b) => VectorOp(1, false, 0x62, destination, a, b);

    /// <summary>vpunpckhdq destination, a, b: per 128-bit lane [a2, b2, a3, b3].</summary>
    public void InterleaveHigh32(int destination, int a, int b) => VectorOp(1, false, 0x6A, destination, a, b);

    /// <summary>vpunpcklqdq destination, a, b: per 128-bit lane [a.q0, b.q0].</summary>
    public void InterleaveLow64(int destination, int a, int b) => VectorOp(1, true, 0x6C, destination, a, b);

    /// <summary>vpunpckhqdq destination, a, b: per 128-bit lane [a.q1, b.q1].</summary>
    public void InterleaveHigh64(int destination, int a, int b) => VectorOp(1, true, 0x6D, destination, a, b);

    /// <summary>vpaddd destination, a, b.</summary>
    public void AddInt32(int destination, int a, int b) => VectorOp(1, false, 0xFE, destination, a, b);

    /// <summary>vshufi32x4 destination, a, b, control: 128-bit lanes [a[c0], a[c1], b[c2], b[c3]] (two bits each, low first).</summary>
    public void ShuffleLanes(int destination, int a, int b, byte control)
    {
        VectorOp(3, false, 0x43, destination, a, b);
        Emit(control);
    }

    /// <summary>A 66-prefixed, 512-bit register-to-register operation: destination = op(a, b).</summary>
    private void VectorOp(int map, bool wide, byte opcode, int destination, int a, int b)
    {
        Evex(map, prefix: 1, destination, a, b, 0, rmIsVector: true, wide);
        Emit(opcode, (byte)(0xC0 | (destination & 7) << 3 | (b & 7)));
    }

    private static byte Rex(bool wide, int reg, int index, int rm) =>
        (byte)(0x40 | (wide ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((index >> 3) & 1) << 1 | ((rm >> 3) & 1));

    /// <summary>ModRM (mod 10) + SIB for [base + index·2^scale + disp32] with <paramref name="reg"/> in the reg field.</summary>
    private void IndexedOperand(int reg, int @base, int index, int displacement)
    {
        if ((index & 15) == Rsp) throw new ArgumentException("rsp cannot be an index.", nameof(index));
        Emit((byte)(0x80 | (reg & 7) << 3 | 4), (byte)((index & 7) << 3 | (@base & 7)));
        Emit32(displacement);
    }

    /// <summary>ModRM (mod 10) for [base + disp32], with the SIB byte rsp and r12 need as a base.</summary>
    private void BaseOperand(int reg, int @base, int displacement)
    {
        Emit((byte)(0x80 | (reg & 7) << 3 | (@base & 7)));
        if ((@base & 7) == Rsp) Emit(0x24);
        Emit32(displacement);
    }

    /// <summary>
    /// The 4-byte EVEX prefix of a 512-bit (or, with <paramref name="scalar"/>, length-ignored) unmasked instruction: opcode map (1 = 0F, 2 = 0F38), implied prefix (0 none,
    /// 1 = 66, 2 = F3, 3 = F2), W0 unless <paramref name="wide"/>. reg and vvvv are vector registers 0-31; rm is a vector register or a memory base with
    /// an index (general registers); <paramref name="broadcast"/> repeats a memory operand's one element in every lane.
    /// </summary>
    private void Evex(int map, int prefix, int reg, int vvvv, int rm, int index, bool rmIsVector, bool wide = false, bool broadcast = false,
        bool scalar = false)
    {
        int r = (reg >> 3) & 1, rHigh = (reg >> 4) & 1;
        int x = rmIsVector ? (rm >> 4) & 1 : (index >> 3) & 1;
        int b = (rm >> 3) & 1;
        Emit(0x62,
            (byte)((~r & 1) << 7 | (~x & 1) << 6 | (~b & 1) << 5 | (~rHigh & 1) << 4 | map),
            (byte)((wide ? 0x80 : 0) | (~vvvv & 15) << 3 | 4 | prefix),
            (byte)((scalar ? 0 : 2 << 5) | (broadcast ? 0x10 : 0) | (~(vvvv >> 4) & 1) << 3));
    }

    private void Emit(params ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) _code.Add(b);
    }

    private void Emit32(int value)
    {
        for (int i = 0; i < 4; i++) _code.Add((byte)(value >> (8 * i)));
    }
}
