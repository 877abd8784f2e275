/**
 * The language runtimes of functions given as source code (docs/runtimes.md): python, node, go, java and shell. Each
 * one turns a function's files into a build context whose image runs the runtime's shim, which serves the hot
 * protocol (docs/hot-functions.md) and calls the function's code per request. {@link io.granda.runtimes.Runtimes} is
 * the only public type: it makes the catalog of runtimes, with their base images.
 */
package io.granda.runtimes;
