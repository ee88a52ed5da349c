/**
 * The component package's entry (package.json `main`, next to PulumiPlugin.yaml): Pulumi runs it when a program in
 * any language uses this package, and it serves the components listed in components/componentPackage.ts, with the
 * schema Pulumi's analyzer derives from their TypeScript argument types. The library's own entry is `exports`.
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";

import { componentPackage } from "./components/componentPackage";

void componentProviderHost(componentPackage());
