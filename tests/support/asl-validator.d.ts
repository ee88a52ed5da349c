// The part of asl-validator (an Amazon States Language validator whose package ships no type declarations) that the
// tests use. Beware: it writes the default QueryLanguage into every state of the definition it is given.
declare module "asl-validator" {
  interface ValidationOptions {
    readonly checkPaths: boolean;
    readonly checkArn: boolean;
  }

  function validator(
    definition: object,
    options?: ValidationOptions,
  ): { isValid: boolean; errors: Array<{ message?: string; Message?: string }>; errorsText(separator?: string): string };

  export = validator;
}
