import { describe, expect, it } from "vitest";
import { canonicalJson as writerJcs } from "../../../core/audit/entry";
import { canonicalJson as verifierJcs, parseStrictJson } from "../../../tools/audit-verify";

/*
 * The writer (canonicalize) and the verifier (json-canonicalize) must produce byte-identical RFC 8785
 * output, or a valid log would fail verification. Expected strings come from RFC 8785 and its authors'
 * test data (github.com/cyberphone/json-canonicalization, testdata/), not from either library.
 */
const both = (value: unknown) => ({ writer: writerJcs(value), verifier: verifierJcs(value) });

describe("RFC 8785 canonicalization, writer and verifier alike", () => {
  it.each([
    [1e21, "1e+21"],
    [0.1, "0.1"],
    [-0, "0"],
    [1e-7, "1e-7"],
    [0.000001, "0.000001"],
    [5e-324, "5e-324"],
    [-5e-324, "-5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [9007199254740992, "9007199254740992"],
    [-9007199254740992, "-9007199254740992"],
    [295147905179352830000, "295147905179352830000"],
    [1e23, "1e+23"],
    [999999999999999700000, "999999999999999700000"],
    [333333333.33333329, "333333333.3333333"],
    [4.5, "4.5"],
    [2e-3, "0.002"],
    [1e-27, "1e-27"],
  ])("writes the number %s as %s", (value, expected) => {
    expect(both(value)).toEqual({ writer: expected, verifier: expected });
  });

  it("sorts member names by UTF-16 code units, also outside ASCII and the BMP (cyberphone weird.json)", () => {
    const input = parseStrictJson(
      '{"\\u20ac":"Euro Sign","1":"One","\\u0080":"Control\\u007f","\\ud83d\\ude02":"Smiley","\\u00f6":"Latin Small Letter O With Diaeresis","\\ufb33":"Hebrew Letter Dalet With Dagesh","</script>":"Browser Challenge"}',
    );
    const expected =
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}';

    expect(both(input)).toEqual({ writer: expected, verifier: expected });
  });

  it("escapes strings and writes literals as RFC 8785 section 3.2.4 shows (cyberphone values.json)", () => {
    const input = parseStrictJson(
      '{"numbers":[1E30,4.50,333333333.33333329,2e-3,0.000000000000000000000000001],"escaping":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    const expected = '{"escaping":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}';

    expect(both(input)).toEqual({ writer: expected, verifier: expected });
  });

  it("writes non-ASCII text as is and escapes only control characters, quote and backslash", () => {
    const value = { s: "Größe – «» 🖨️ \u2028\u2029 \u0000\u001f\u007f \b\f\n\r\t \"\\ /" };

    const expected = '{"s":"Größe – «» 🖨️ \u2028\u2029 \\u0000\\u001f\u007f \\b\\f\\n\\r\\t \\"\\\\ /"}';

    expect(both(value)).toEqual({ writer: expected, verifier: expected });
  });

  it("agrees on random nested values with unicode keys", () => {
    // A fixed-seed generator, so that a failure is reproducible.
    let state = 42;
    const rand = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const alphabet = ["a", "B", "é", "€", "\u0080", "😀", "\ufb33", "1", " ", '"', "\\", "\n", "ｆ", "𝄞"];
    const text = () => Array.from({ length: Math.floor(rand() * 4) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
    const numbers = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 123.456, 2 ** 53, -1.5e300, 5e-324];
    const value = (depth: number): unknown => {
      const pick = Math.floor(rand() * (depth > 3 ? 4 : 6));
      if (pick === 0) return numbers[Math.floor(rand() * numbers.length)];
      if (pick === 1) return text();
      if (pick === 2) return [true, false, null][Math.floor(rand() * 3)];
      if (pick === 3) return rand() * 1e6 - 5e5;
      if (pick === 4) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 5) }, () => [text(), value(depth + 1)]));
    };
    const samples = Array.from({ length: 300 }, () => value(0));

    const disagreements = samples.filter((s) => writerJcs(s) !== verifierJcs(s));

    expect(disagreements).toEqual([]);
  });

  it("refuses what JCS cannot encode: the writer throws, the verifier's parser rejects", () => {
    expect(() => writerJcs({ s: "\ud800" })).toThrow();
    expect(() => writerJcs({ n: Number.NaN })).toThrow();
    expect(() => verifierJcs({ n: Number.POSITIVE_INFINITY })).toThrow();
    expect(() => parseStrictJson('{"s":"\\ud800"}')).toThrow(/lone surrogate/);
    expect(() => parseStrictJson('{"n":1e400}')).toThrow(/double range/);
  });
});
