"""The product managers' web console (docs/console.md): browse, edit, check, simulate and
submit tariffs in a browser, served by the product itself (`tariff serve --console-port`,
`tariff console`). Every page calls the service layer the gRPC servicers call; nothing here
is a second copy of the rules."""
