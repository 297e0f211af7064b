/**
 * Tokenizers and chat templates: {@link io.r1kit.model.tokenizer.Tokenizer}, the Hugging Face
 * {@code tokenizer.json} tokenizer ({@link io.r1kit.model.tokenizer.HfTokenizer}, Rust library via
 * DJL's JNI binding), a character-level tokenizer for toy tasks that saves a real tokenizer.json
 * ({@link io.r1kit.model.tokenizer.CharTokenizer}), and {@link io.r1kit.model.tokenizer.ChatTemplate},
 * which renders transformers chat templates with Jinjava plus the Jinja2 compatibility they need.
 */
package io.r1kit.model.tokenizer;
