namespace GpuMux.Engine.Models.Safetensors;

/// <summary>The file is not a well-formed safetensors file; the message says what is wrong with it.</summary>
public sealed class SafetensorsFormatException(string message) : Exception(message);
