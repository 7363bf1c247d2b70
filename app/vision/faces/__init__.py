"""Opt-in face recognition (staff exclusion, repeat visitors). Nothing here is imported
or loaded in anonymous mode: the pipeline gets a recogniser object only when the store
opted in (`app.vision.faces.recogniser.FaceRecogniser`)."""
