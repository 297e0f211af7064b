package io.r1kit.data.gen;

import io.r1kit.data.DatasetException;

/**
 * The two languages of the toy universe: English and Russian (its own script, Cyrillic, with a small
 * alphabet that suits a character-level model). Only the words differ; numbers, operators and tags are
 * shared, as in real mixed-language chains of thought.
 */
public enum Lang {
    EN("en", "what is %s?", "plus", "minus", "times", "is", "first", "then", "so the answer is",
            "wait, let me check:", "check:", "ok", "the answer is"),
    RU("ru", "сколько будет %s?", "плюс", "минус", "умножить на", "будет", "сначала", "потом", "значит ответ",
            "подожди, проверю:", "проверка:", "верно", "ответ");

    public final String code;
    final String questionFormat, plus, minus, times, is, first, then, soAnswer, waitCheck, check, ok, answerIs;

    Lang(String code, String questionFormat, String plus, String minus, String times, String is, String first,
         String then, String soAnswer, String waitCheck, String check, String ok, String answerIs) {
        this.code = code;
        this.questionFormat = questionFormat;
        this.plus = plus;
        this.minus = minus;
        this.times = times;
        this.is = is;
        this.first = first;
        this.then = then;
        this.soAnswer = soAnswer;
        this.waitCheck = waitCheck;
        this.check = check;
        this.ok = ok;
        this.answerIs = answerIs;
    }

    /** "what is 47+38?" */
    public String question(String expression) {
        return String.format(questionFormat, expression);
    }

    String opWord(char op) {
        return switch (op) {
            case '+' -> plus;
            case '-' -> minus;
            case '*' -> times;
            default -> throw new IllegalArgumentException("operator " + op);
        };
    }

    public static Lang parse(String s) {
        for (Lang l : values()) if (l.code.equalsIgnoreCase(s)) return l;
        throw new DatasetException("unknown language '" + s + "': expected en or ru");
    }
}
