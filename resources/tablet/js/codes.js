// Retail barcodes (GTIN): EAN-13, UPC-A, EAN-8. One pure rule, the same as the server's
// (app/sync/gtin.py): a code of 8, 12 or 13 digits must have a right check digit; any
// other code that is not in the catalogue is added only once the salesperson confirms it.

export const GTIN_NAMES = { ean_13: "EAN-13", upc_a: "UPC-A", ean_8: "EAN-8" };
const BY_LENGTH = { 13: "ean_13", 12: "upc_a", 8: "ean_8" };

// The check digit of `body` (the code without its last digit): weights 3, 1 from the right.
export function checkDigit(body) {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return (10 - (sum % 10)) % 10;
}

// "ean_13" | "upc_a" | "ean_8" (valid), "bad_check_digit" (8, 12 or 13 digits whose last
// digit is wrong), or "other" (anything else: "abc", an in-store code, a QR text).
export function codeKind(code) {
  const c = String(code);
  if (!/^[0-9]+$/.test(c) || !BY_LENGTH[c.length]) return "other";
  return checkDigit(c.slice(0, -1)) === Number(c[c.length - 1]) ? BY_LENGTH[c.length] : "bad_check_digit";
}

export function isValidGtin(code) {
  return codeKind(code) in GTIN_NAMES;
}

// Why a code not in the catalogue needs a confirmation, for a person.
export function codeDoubt(code) {
  const kind = codeKind(code);
  if (kind === "bad_check_digit") {
    const name = GTIN_NAMES[BY_LENGTH[code.length]];
    return `${code} is not a valid ${name} barcode: its last digit should be `
      + `${checkDigit(code.slice(0, -1))}. It may be mistyped or misread.`;
  }
  if (kind === "other") return `“${code}” is not an EAN or UPC barcode, and it is not in the catalogue.`;
  return "";
}
