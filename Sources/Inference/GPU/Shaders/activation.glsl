// ncnn's activations with the CPU engine's codes (LK_ACT_* in lumiere_kernels.h): 0 none, 1 ReLU, 2 LeakyReLU(slope),
// 3 Clip(min, max), 4 Sigmoid, 5 Mish, 6 HardSwish(alpha, beta), 7 PReLU (one slope, or one per `group`).
// The including shader declares `float actParams[]` in a buffer and passes the code and the parameter count.
float activate(float v, int code, int count, int group) {
    switch (code) {
    case 1: return v > 0.0 ? v : 0.0;
    case 2: return v > 0.0 ? v : v * actParams[0];
    case 3: return v < actParams[0] ? actParams[0] : (v > actParams[1] ? actParams[1] : v);
    case 4: return 1.0 / (1.0 + exp(-v));
    case 5: return v * tanh(log(1.0 + exp(v)));
    case 6: {
        float alpha = actParams[0], beta = actParams[1], lower = -beta / alpha, upper = 1.0 / alpha + lower;
        return v < lower ? 0.0 : (v > upper ? v : v * (v * alpha + beta));
    }
    case 7: {
        float s = count == 1 ? actParams[0] : actParams[group];
        return v > 0.0 ? v : v * s;
    }
    default: return v;
    }
}
