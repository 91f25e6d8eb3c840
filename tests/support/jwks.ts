import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from "jose";

/**
 * An identity provider's RS256 key for tests: its public JWK (as a JWKS serves it) and a
 * signer of tokens with its `kid`, valid for `expiresIn` (default 2 minutes).
 */
export async function providerKey(kid: string, expiresIn = "2m") {
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const sign = (claims: JWTPayload) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid })
      .setExpirationTime(expiresIn)
      .sign(privateKey);
  return { jwk, sign };
}
