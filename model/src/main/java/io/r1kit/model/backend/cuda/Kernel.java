package io.r1kit.model.backend.cuda;

/**
 * Every custom kernel the CUDA backend launches: the source file and its {@code extern "C"}
 * entry point. Launches name an enum constant, never a string, so the static check in the test
 * suite (every constant's entry exists in its file) covers every launch.
 */
public enum Kernel {
    ADD_F32("elementwise.cu", "add_f32"),
    MUL_F32("elementwise.cu", "mul_f32"),
    AXPY_F32("elementwise.cu", "axpy_f32"),
    SCALE_F32("elementwise.cu", "scale_f32"),
    SUM_PARTIALS_F32("elementwise.cu", "sum_partials_f32"),
    SUM_FINISH_F64("elementwise.cu", "sum_finish_f64"),
    CLIP_SCALE_F32("elementwise.cu", "clip_scale_f32"),
    MASKED_SUM_PARTIALS_F32("elementwise.cu", "masked_sum_partials_f32"),
    F32_TO_BF16("elementwise.cu", "f32_to_bf16"),
    BF16_TO_F32("elementwise.cu", "bf16_to_f32"),
    COPY2D_F32("elementwise.cu", "copy2d_f32"),
    EMBEDDING_FWD("embedding.cu", "embedding_fwd"),
    EMBEDDING_BWD("embedding.cu", "embedding_bwd"),
    RMSNORM_FWD("rmsnorm.cu", "rmsnorm_fwd"),
    RMSNORM_BWD_DX("rmsnorm.cu", "rmsnorm_bwd_dx"),
    RMSNORM_BWD_DW("rmsnorm.cu", "rmsnorm_bwd_dw"),
    ROPE_F32("rope_swiglu.cu", "rope_f32"),
    SWIGLU_FWD("rope_swiglu.cu", "swiglu_fwd"),
    SWIGLU_BWD("rope_swiglu.cu", "swiglu_bwd"),
    SOFTMAX_FWD("softmax.cu", "softmax_fwd"),
    SOFTMAX_BWD("softmax.cu", "softmax_bwd"),
    LOG_SOFTMAX_FWD("softmax.cu", "log_softmax_fwd"),
    LOG_SOFTMAX_BWD("softmax.cu", "log_softmax_bwd"),
    TOKEN_LOGPROBS_FWD("softmax.cu", "token_logprobs_fwd"),
    TOKEN_LOGPROBS_BWD("softmax.cu", "token_logprobs_bwd"),
    ENTROPY_FWD("softmax.cu", "entropy_fwd"),
    ENTROPY_BWD("softmax.cu", "entropy_bwd"),
    ATTENTION_FWD("attention.cu", "attention_fwd"),
    ATTENTION_BWD_DOT("attention.cu", "attention_bwd_dot"),
    ATTENTION_BWD("attention.cu", "attention_bwd"),
    ADAMW_F32("adamw.cu", "adamw_f32"),
    ADAMW_BF16("adamw.cu", "adamw_bf16"),
    SAMPLE_TOP_K_TOP_P("sampling.cu", "sample_top_k_top_p"),
    KV_APPEND("kvcache.cu", "kv_append"),
    KV_GATHER("kvcache.cu", "kv_gather"),
    UNARY_FWD("loss.cu", "unary_fwd"),
    UNARY_BWD("loss.cu", "unary_bwd"),
    BINARY_FWD("loss.cu", "binary_fwd"),
    BINARY_BWD("loss.cu", "binary_bwd"),
    WHERE_FWD("loss.cu", "where_fwd"),
    WHERE_BWD("loss.cu", "where_bwd"),
    MASKED_REDUCE_FWD("loss.cu", "masked_reduce_fwd"),
    MASKED_REDUCE_BWD("loss.cu", "masked_reduce_bwd"),
    GEMM_F32_SIMT("gemm.cu", "gemm_f32_simt"),
    GEMM_BF16_SIMT("gemm.cu", "gemm_bf16_simt"),
    GEMM_BF16_MMA("gemm.cu", "gemm_bf16_mma");

    public final String file;
    public final String entry;

    Kernel(String file, String entry) {
        this.file = file;
        this.entry = entry;
    }
}
