using System.Text.Json.Nodes;
using Peft.Transformers.Configuration;
using Peft.Transformers.Loading;
using Peft.Transformers.Models;

namespace Peft.Onnx.Benchmarks;

/// <summary>The gpt2-small folder both engines read: made once with random weights (seed 1) as bench/Peft.Benchmarks makes it.</summary>
internal static class ModelFolder
{
    public const string Fp32 = "gpt2.onnx", Int8 = "gpt2_int8.onnx", Fp32Last = "gpt2_last.onnx", Int8Last = "gpt2_last_int8.onnx";

    public static void Ensure(string folder)
    {
        if (Peft.Benchmarks.Shared.Gpt2SmallFolder.Ensure(folder)) Console.WriteLine($"wrote a random-weight gpt2-small to {folder}");
    }

    /// <summary>False (with the command that makes them printed) when the ONNX files are missing or older than the weights.</summary>
    public static bool HasOnnx(string folder)
    {
        var weights = File.GetLastWriteTimeUtc(Path.Combine(folder, "model.safetensors"));
        bool ok = new[] { Fp32, Int8, Fp32Last, Int8Last }.All(f => File.Exists(Path.Combine(folder, f)) && File.GetLastWriteTimeUtc(Path.Combine(folder, f)) >= weights);
        if (!ok)
        {
            Console.WriteLine($"{Fp32} / {Int8} / {Fp32Last} / {Int8Last} missing (or older than model.safetensors) in {folder}. Make them with:");
            Console.WriteLine($"  /usr/bin/python3 bench/onnx/export_gpt2.py {folder}");
            Console.WriteLine("  (needs: DEBIAN_FRONTEND=noninteractive apt-get install -y python3-torch python3-onnx)");
        }
        return ok;
    }
}
