// Inference engine: ncnn-format models (see issue 3).
public enum InferenceEngine { public static let name = "lumiere-engine" }
