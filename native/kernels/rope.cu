// rope_f32: rotary position embedding in the Hugging Face layout (rotate_half), in place on the f32
// matrix x [tokens, width], each row holding width / head_dim heads of head_dim values. For token t
// at position positions[t], each head, and each i < head_dim / 2, the pair (x0, x1) =
// (x[i], x[i + head_dim / 2]) of the head is rotated by the angle a = position × theta^(-2i / head_dim):
//   x[i]                = x0 × cos(a) − x1 × sin(a)
//   x[i + head_dim / 2] = x1 × cos(a) + x0 × sin(a)
// each product and the sum or difference rounded to f32 on its own (no fused multiply-add).
// The angle is computed in double, pow(theta, −2i / head_dim) × position, and only its cosine and
// sine are rounded to f32. CUDA's double pow, sin and cos are within 2 ulp of the exact value and the
// host's within 1, so the two f32 roundings agree except where the exact value lies that close to a
// half-way point: then cos(a) or sin(a) differs by 1 ulp of f32, and an output by at most
// 2^-22 × (|x0| + |x1|). Elements past the last whole head of a row (width not a multiple of
// head_dim) and the middle element of a head of odd size are left as they are; head_dim below 2
// rotates nothing.
// Launch: 1-D, any grid and block size (256 threads suits); a grid-stride loop over the pairs.

extern "C" __global__ void rope_f32(
    float* x, const unsigned int* positions, unsigned int tokens, unsigned int width, unsigned int head_dim, float theta)
{
    if (head_dim < 2u)
    {
        return;
    }

    const unsigned int half = head_dim >> 1;
    const unsigned long long pairs_per_token = (unsigned long long)(width / head_dim) * half;
    const unsigned long long count = (unsigned long long)tokens * pairs_per_token;
    const unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (unsigned long long j = (unsigned long long)blockIdx.x * blockDim.x + threadIdx.x; j < count; j += stride)
    {
        const unsigned long long t = j / pairs_per_token;
        const unsigned long long k = j - t * pairs_per_token;
        const unsigned long long head = k / half;
        const unsigned int i = (unsigned int)(k - head * half);
        const double inv_freq = pow((double)theta, -(double)(2u * i) / (double)head_dim);
        const double angle = (double)positions[t] * inv_freq;
        const float c = __double2float_rn(cos(angle));
        const float s = __double2float_rn(sin(angle));

        float* pair = x + t * width + head * head_dim + i;
        const float x0 = pair[0];
        const float x1 = pair[half];
        pair[0] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
        pair[half] = __fadd_rn(__fmul_rn(x1, c), __fmul_rn(x0, s));
    }
}
